/**
 * The worker process's BullMQ worker on the `evaluation` queue. Evaluations run in this process,
 * not sandboxed like training: they generate and extract in short chunks, yielding between them,
 * and compute the metric on a worker thread (score-off-thread.ts). Their feature extractors come
 * from `extractors`, which the composition root (worker-command.ts) or a test chooses.
 */
import { QueueEvents, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { PrismaClient } from '../db/client.js';
import { evaluationQueueName, type EvaluationJobData } from '../queue/evaluation-queue.js';
import type { RunEventStream } from '../queue/event-stream.js';
import { ArtifactStore } from '../storage/artifacts.js';
import { failEvaluation } from './evaluation-records.js';
import {
  createEvaluationProcessor,
  type EvaluationDependencies,
  type EvaluationOutcome,
} from './evaluation-processor.js';

export interface EvaluationWorkerOptions {
  config: Config;
  prisma: PrismaClient;
  /** BullMQ duplicates it for its own blocking connection. */
  redis: Redis;
  events: RunEventStream;
  extractors: EvaluationDependencies;
  logger: Logger;
}

export interface EvaluationWorker {
  worker: Worker<EvaluationJobData, EvaluationOutcome>;
  close(): Promise<void>;
}

/**
 * One evaluation at a time per worker: an evaluation holds a restored checkpoint, an extractor
 * and every feature row, and shares the CPU with training.
 */
const evaluationConcurrency = 1;

export async function startEvaluationWorker(
  options: EvaluationWorkerOptions,
): Promise<EvaluationWorker> {
  const { config, logger } = options;
  const processor = createEvaluationProcessor({
    prisma: options.prisma,
    events: options.events,
    artifacts: new ArtifactStore(config.artifactsDir),
    extractors: options.extractors,
    extractorContext: {
      cacheDir: config.extractorCacheDir,
      inceptionModelDir: config.inceptionModelDir,
      log: (msg, fields) => logger.info(fields ?? {}, msg),
    },
    logger,
  });
  // A job whose workers died more than maxStalledCount times fails inside a Redis script, seen
  // only on the queue's event stream; its row would otherwise stay `running` for ever.
  const queueEvents = new QueueEvents(evaluationQueueName, {
    connection: options.redis.duplicate({ maxRetriesPerRequest: null }),
    prefix: config.prefix,
  });
  queueEvents.on('failed', ({ jobId, failedReason }) => {
    const code = failedReason.includes('stalled')
      ? 'GANFORGE_ERR_STALLED'
      : 'GANFORGE_ERR_INTERNAL';
    failEvaluation(options.prisma, options.events, jobId, code, failedReason).catch(
      (err: unknown) => logger.error({ err, jobId }, 'could not record a failed evaluation'),
    );
  });
  await queueEvents.waitUntilReady();

  const worker = new Worker<EvaluationJobData, EvaluationOutcome>(
    evaluationQueueName,
    (job) => processor(job),
    {
      connection: options.redis.duplicate({ maxRetriesPerRequest: null }),
      prefix: config.prefix,
      concurrency: evaluationConcurrency,
      lockDuration: config.jobLockMs,
      stalledInterval: config.stalledIntervalMs,
      maxStalledCount: config.maxStalledCount,
    },
  );
  worker.on('failed', (job: Job<EvaluationJobData> | undefined, err: Error) => {
    const level = err.name === 'UnrecoverableError' ? 'info' : 'warn';
    logger[level]({ err, evaluationId: job?.data.evaluationId }, 'evaluation attempt failed');
  });
  worker.on('error', (err: Error) => logger.error({ err }, 'evaluation worker error'));
  await worker.waitUntilReady();
  logger.info('evaluation worker ready');
  return {
    worker,
    async close() {
      await worker.close();
      await queueEvents.close();
    },
  };
}
