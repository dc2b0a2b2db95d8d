/** `ganforge worker`: select the compute backend once, then train jobs until stopped. */
import type { Config } from '../config.js';
import { initEngine } from '../gan/engine.js';
import { RunEventStream } from '../queue/event-stream.js';
import { ArtifactStore } from '../storage/artifacts.js';
import { startTrainingWorker } from '../worker/worker.js';
import { onShutdown, openServices } from './services.js';

export async function runWorker(config: Config): Promise<void> {
  const services = await openServices(config, 'worker', { migrate: true });
  const { logger } = services;
  const engine = await initEngine(config.backend, (message, fields) =>
    logger.info(fields ?? {}, message),
  );
  logger.info({ backend: engine.backend, detail: engine.detail }, 'compute backend selected');

  const training = await startTrainingWorker({
    prisma: services.prisma,
    redis: services.redis,
    events: new RunEventStream(services.redis, {
      prefix: config.prefix,
      maxLen: config.eventsMaxLen,
    }),
    artifacts: new ArtifactStore(config.artifactsDir),
    prefix: config.prefix,
    backend: engine.backend,
    logger,
    concurrency: config.workerConcurrency,
    lockDuration: config.jobLockMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: config.maxStalledCount,
  });
  onShutdown(async () => {
    await training.close();
    await services.close();
  }, logger);
}
