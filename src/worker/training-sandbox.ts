/**
 * The training sandbox: the module BullMQ loads in a child process of the worker (a sandboxed
 * processor) to train runs. A training step is one long synchronous stretch of tensor kernels
 * (seconds on a CPU, minutes on the pure-JS backend); in the worker's own process it would starve
 * the timer that renews the job's lock, and BullMQ would hand a run that is still training to a
 * second worker. Out here, the worker's event loop stays free whatever a step costs.
 *
 * The child reads the worker's configuration from its environment (worker.ts passes it on) and
 * opens its own clients and compute engine once, for every job it trains.
 */
import { createEvaluationQueue } from '../queue/evaluation-queue.js';
import { RunEventStream } from '../queue/event-stream.js';
import { loadConfig } from '../config.js';
import { initEngine } from '../gan/engine.js';
import { openServices } from '../cli/services.js';
import { ArtifactStore } from '../storage/artifacts.js';
import {
  createTrainingProcessor,
  type TrainingJob,
  type TrainingOutcome,
} from './training-processor.js';

// BullMQ's child keeps running when its parent dies without a word (SIGKILL, OOM): it would go on
// training a run that another worker resumes. The IPC channel closes with the parent; so do we.
process.once('disconnect', () => process.exit(1));

let processor: Promise<ReturnType<typeof createTrainingProcessor>> | undefined;

async function openProcessor(): Promise<ReturnType<typeof createTrainingProcessor>> {
  const config = loadConfig();
  const services = await openServices(config, 'trainer', { migrate: false });
  const { logger } = services;
  const engine = await initEngine(config.backend, (message, fields) =>
    logger.info(fields ?? {}, message),
  );
  logger.info({ backend: engine.backend, detail: engine.detail }, 'compute backend selected');
  return createTrainingProcessor({
    prisma: services.prisma,
    redis: services.redis,
    events: new RunEventStream(services.redis, {
      prefix: config.prefix,
      maxLen: config.eventsMaxLen,
    }),
    artifacts: new ArtifactStore(config.artifactsDir),
    evaluationQueue: createEvaluationQueue(services.redis, config.prefix),
    prefix: config.prefix,
    backend: engine.backend,
    logger,
    onEngineFault: (fault) => {
      logger.error({ err: fault }, 'the compute engine failed; this training process ends');
      endAfterReply();
    },
  });
}

export default async function trainInSandbox(
  job: TrainingJob,
  token?: string,
  signal?: AbortSignal,
): Promise<TrainingOutcome> {
  processor ??= openProcessor().catch((err: unknown) => {
    processor = undefined;
    throw err;
  });
  return (await processor)(job, token, signal);
}

/**
 * Ends this process once BullMQ has had the job's failure: the engine's heap is broken after a
 * fault, and the worker's pool starts a fresh sandbox for the next job.
 */
function endAfterReply(): void {
  setTimeout(() => process.exit(1), 200);
}
