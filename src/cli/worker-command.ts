/**
 * `ganforge worker`: take training and evaluation jobs until stopped. The runs train in sandbox
 * processes (worker/training-sandbox.ts), each of which selects the compute backend once and logs
 * it. The worker makes the same choice before it takes a job, so a worker told to use a backend
 * that does not load refuses to start instead of failing every run it takes; evaluations run on
 * that backend in the worker's own process (worker/evaluation-worker.ts).
 */
import type { Config } from '../config.js';
import { initEngine } from '../gan/engine.js';
import { RunEventStream } from '../queue/event-stream.js';
import { featureExtractors } from '../worker/evaluation-dependencies.js';
import { startEvaluationWorker } from '../worker/evaluation-worker.js';
import { startTrainingWorker } from '../worker/worker.js';
import { onShutdown, openServices } from './services.js';

export async function runWorker(config: Config): Promise<void> {
  const services = await openServices(config, 'worker', { migrate: true });
  const { logger } = services;
  try {
    const engine = await initEngine(config.backend);
    logger.info({ backend: engine.backend, detail: engine.detail }, 'compute backend available');
  } catch (err) {
    logger.fatal({ err }, 'the configured compute backend does not load; not starting');
    await services.close();
    process.exitCode = 1;
    return;
  }
  const events = new RunEventStream(services.redis, {
    prefix: config.prefix,
    maxLen: config.eventsMaxLen,
  });
  const training = await startTrainingWorker({
    config,
    prisma: services.prisma,
    redis: services.redis,
    events,
    logger,
  });
  const evaluation = await startEvaluationWorker({
    config,
    prisma: services.prisma,
    redis: services.redis,
    events,
    extractors: featureExtractors,
    logger,
  });
  onShutdown(async () => {
    await evaluation.close();
    await training.close();
    await services.close();
  }, logger);
}
