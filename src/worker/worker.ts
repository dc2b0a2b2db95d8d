/**
 * A worker process: one BullMQ worker on the `training` queue whose jobs train in sandboxed child
 * processes (training-sandbox.ts), plus the reconciler that keeps the run rows true when BullMQ
 * fails a job without calling our processor (a job whose workers died more often than
 * `maxStalledCount`, or whose attempts ran out).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueueEvents, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { configEnv, type Config } from '../config.js';
import type { PrismaClient } from '../db/client.js';
import type { ErrorCode } from '../errors.js';
import type { RunEventStream } from '../queue/event-stream.js';
import {
  createTrainingQueue,
  trainingQueueName,
  type TrainingJobData,
} from '../queue/training-queue.js';
import { RunLifecycle } from './run-lifecycle.js';
import type { TrainingOutcome } from './training-processor.js';

export interface TrainingWorkerOptions {
  /**
   * Queue prefix, concurrency, lock and stall settings; and, passed on through the environment,
   * everything the sandboxes need: database, Redis, artifact store, compute backend.
   */
  config: Config;
  prisma: PrismaClient;
  /** Connection for our own commands (events, cancel flags); BullMQ duplicates it. */
  redis: Redis;
  events: RunEventStream;
  logger: Logger;
}

export interface TrainingWorker {
  worker: Worker<TrainingJobData, TrainingOutcome>;
  close(): Promise<void>;
}

const stallLimitReason = 'job stalled more than allowable limit';

/** The sandbox module next to this one: .ts when run from source, .js when built. */
const sandboxFile = new URL(
  `./training-sandbox${path.extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

/**
 * Node flags for the sandbox processes: the worker's own, plus the TypeScript loader when the
 * sandbox is a .ts file and the worker was not started through tsx (as under the test runner).
 */
function sandboxExecArgv(): string[] {
  const fromSource = sandboxFile.pathname.endsWith('.ts');
  const hasLoader = process.execArgv.some((arg) => arg.includes('tsx'));
  return fromSource && !hasLoader ? [...process.execArgv, '--import', 'tsx'] : process.execArgv;
}

export async function startTrainingWorker(options: TrainingWorkerOptions): Promise<TrainingWorker> {
  const { config, prisma, events, logger } = options;
  const { prefix } = config;
  const lifecycle = new RunLifecycle(prisma, events);
  const queue = createTrainingQueue(options.redis, prefix);

  async function reconcileFailedJob(jobId: string, failedReason: string): Promise<void> {
    const job = await queue.getJob(jobId);
    if (!job || !(await job.isFailed())) return;
    const code: ErrorCode = failedReason.includes(stallLimitReason)
      ? 'GANFORGE_ERR_STALLED'
      : 'GANFORGE_ERR_INTERNAL';
    const changed = await lifecycle.finish(job.data.runId, 'failed', {
      code,
      message: failedReason,
    });
    if (changed) logger.warn({ runId: job.data.runId, jobId, failedReason }, 'run failed');
  }

  // A stall-limit failure is decided inside a Redis script and reaches no worker's `failed`
  // listener, only the queue's event stream: listen there for every final failure. The listener
  // is ready before this worker takes a job, so a failure it causes is never missed.
  const queueEvents = new QueueEvents(trainingQueueName, {
    connection: options.redis.duplicate({ maxRetriesPerRequest: null }),
    prefix,
  });
  queueEvents.on('failed', ({ jobId, failedReason }) => {
    reconcileFailedJob(jobId, failedReason).catch((err: unknown) =>
      logger.error({ err, jobId }, 'could not reconcile a failed job'),
    );
  });
  await queueEvents.waitUntilReady();
  // Failures that happened while no worker listened (all of them down, or Redis unreachable).
  for (const run of await prisma.run.findMany({
    where: { status: { in: ['queued', 'running', 'paused'] } },
    select: { id: true },
  })) {
    const job = await queue.getJob(run.id);
    if (job?.failedReason && (await job.isFailed())) {
      await reconcileFailedJob(run.id, job.failedReason);
    }
  }

  const worker = new Worker<TrainingJobData, TrainingOutcome>(trainingQueueName, sandboxFile, {
    connection: options.redis.duplicate({ maxRetriesPerRequest: null }),
    prefix,
    concurrency: config.workerConcurrency,
    // The lock only has to outlast a pause of the worker's own event loop, never a training step.
    lockDuration: config.jobLockMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: config.maxStalledCount,
    workerForkOptions: {
      env: { ...process.env, ...configEnv(config) },
      execArgv: sandboxExecArgv(),
    },
  });
  worker.on('failed', (job: Job<TrainingJobData> | undefined, err: Error) => {
    // Bad config, a bad dataset and divergence arrive from the sandbox as UnrecoverableError.
    const level = err.name === 'UnrecoverableError' ? 'info' : 'warn';
    logger[level]({ err, runId: job?.data.runId, jobId: job?.id }, 'training attempt failed');
  });
  worker.on('stalled', (jobId: string) => logger.warn({ jobId }, 'training job stalled'));
  worker.on('error', (err: Error) => logger.error({ err }, 'training worker error'));

  await worker.waitUntilReady();
  logger.info({ concurrency: config.workerConcurrency }, 'worker ready');
  return {
    worker,
    async close() {
      // Running jobs checkpoint and go back to the queue (see handBack); then the sandboxes end.
      worker.cancelAllJobs('worker shutting down');
      await worker.close();
      await queueEvents.close();
      await queue.close();
    },
  };
}
