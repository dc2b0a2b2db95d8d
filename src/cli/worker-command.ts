/**
 * `ganforge worker`: take training jobs until stopped. The runs train in sandbox processes
 * (worker/training-sandbox.ts), each of which selects the compute backend once and logs it.
 */
import type { Config } from '../config.js';
import { RunEventStream } from '../queue/event-stream.js';
import { startTrainingWorker } from '../worker/worker.js';
import { onShutdown, openServices } from './services.js';

export async function runWorker(config: Config): Promise<void> {
  const services = await openServices(config, 'worker', { migrate: true });
  const { logger } = services;
  const training = await startTrainingWorker({
    config,
    prisma: services.prisma,
    redis: services.redis,
    events: new RunEventStream(services.redis, {
      prefix: config.prefix,
      maxLen: config.eventsMaxLen,
    }),
    logger,
  });
  onShutdown(async () => {
    await training.close();
    await services.close();
  }, logger);
}
