/**
 * A worker process: one BullMQ worker on the `training` queue, plus the reconciler that keeps the
 * run rows true when BullMQ fails a job without calling our processor (a job whose workers died
 * more often than `maxStalledCount`, or whose attempts ran out).
 */
import { QueueEvents, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PrismaClient } from '../db/client.js';
import { isGanforgeError, type ErrorCode } from '../errors.js';
import type { RunEventStream } from '../queue/event-stream.js';
import {
  createTrainingQueue,
  trainingQueueName,
  type TrainingJobData,
} from '../queue/training-queue.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import { RunLifecycle } from './run-lifecycle.js';
import { createTrainingProcessor, type TrainingOutcome } from './training-processor.js';

export interface TrainingWorkerOptions {
  prisma: PrismaClient;
  /** Connection for our own commands (events, cancel flags); BullMQ duplicates it. */
  redis: Redis;
  events: RunEventStream;
  artifacts: ArtifactStore;
  prefix: string;
  backend: string;
  logger: Logger;
  /** Jobs this worker trains at once (default 1: one accelerator, one run). */
  concurrency?: number;
  /**
   * How long a job's lock lives without renewal (BullMQ default 30 s). The training loop yields
   * after every step, so this only has to outlast the slowest single step.
   */
  lockDuration?: number;
  /** How often this worker looks for jobs whose worker died (BullMQ default 30 s). */
  stalledInterval?: number;
  /** Deaths a job survives before it is failed (default 1: resume once, then give up). */
  maxStalledCount?: number;
}

export interface TrainingWorker {
  worker: Worker<TrainingJobData, TrainingOutcome>;
  close(): Promise<void>;
}

const stallLimitReason = 'job stalled more than allowable limit';

export async function startTrainingWorker(options: TrainingWorkerOptions): Promise<TrainingWorker> {
  const { prisma, events, logger, prefix } = options;
  const lifecycle = new RunLifecycle(prisma, events);
  const processor = createTrainingProcessor(options);
  const worker = new Worker<TrainingJobData, TrainingOutcome>(trainingQueueName, processor, {
    connection: options.redis.duplicate({ maxRetriesPerRequest: null }),
    prefix,
    concurrency: options.concurrency ?? 1,
    lockDuration: options.lockDuration ?? 30_000,
    stalledInterval: options.stalledInterval ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 1,
  });
  // A stall-limit failure is decided inside a Redis script and reaches no worker's `failed`
  // listener, only the queue's event stream: listen there for every final failure.
  const queueEvents = new QueueEvents(trainingQueueName, {
    connection: options.redis.duplicate({ maxRetriesPerRequest: null }),
    prefix,
  });

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

  queueEvents.on('failed', ({ jobId, failedReason }) => {
    reconcileFailedJob(jobId, failedReason).catch((err: unknown) =>
      logger.error({ err, jobId }, 'could not reconcile a failed job'),
    );
  });
  worker.on('failed', (job: Job<TrainingJobData> | undefined, err: Error) => {
    const level = isGanforgeError(err) ? 'info' : 'warn';
    logger[level]({ err, runId: job?.data.runId, jobId: job?.id }, 'training attempt failed');
  });
  worker.on('stalled', (jobId: string) => logger.warn({ jobId }, 'training job stalled'));
  worker.on('error', (err: Error) => logger.error({ err }, 'training worker error'));

  await Promise.all([worker.waitUntilReady(), queueEvents.waitUntilReady()]);
  logger.info({ backend: options.backend, concurrency: options.concurrency ?? 1 }, 'worker ready');
  return {
    worker,
    async close() {
      await worker.close();
      await queueEvents.close();
      await queue.close();
    },
  };
}
