import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** BullMQ queue that carries training runs from the API to the workers. */
export const trainingQueueName = 'training';

/** A training job names its run; everything else (config, status) lives in the Run row. */
export interface TrainingJobData {
  runId: string;
}

export type TrainingQueue = Queue<TrainingJobData>;

/**
 * Attempts per run. A retry resumes from the last checkpoint, so it repeats little work; bad
 * config or a bad dataset is an unrecoverable error in the worker and is never retried.
 */
const trainingAttempts = 3;

/** First retry after 500 ms, then 1 s, 2 s (BullMQ's exponential backoff doubles the delay). */
const retryDelayMs = 500;

/**
 * Finished jobs kept in Redis for inspection. The Run row is the record of a run; these bounds
 * only stop Redis from growing with every run ever trained.
 */
const keepCompleted = { count: 1000, age: 7 * 24 * 3600 };
const keepFailed = { count: 5000, age: 30 * 24 * 3600 };

/**
 * Opens the training queue on a shared connection. `prefix` namespaces the queue's Redis keys,
 * so deployments (and test files) that share one Redis never see each other's jobs.
 */
export function createTrainingQueue(connection: Redis, prefix: string): TrainingQueue {
  return new Queue<TrainingJobData>(trainingQueueName, { connection, prefix });
}

/** Adds a run's job. The job id is the run id, so enqueueing the same run twice adds one job. */
export async function enqueueTrainingRun(queue: TrainingQueue, runId: string): Promise<void> {
  await queue.add(
    'train',
    { runId },
    {
      jobId: runId,
      attempts: trainingAttempts,
      backoff: { type: 'exponential', delay: retryDelayMs },
      removeOnComplete: keepCompleted,
      removeOnFail: keepFailed,
    },
  );
}

/**
 * Removes a run's job unless a worker holds it. Returns false when the job is locked by a worker
 * (it is running), so the caller falls back to asking the worker to stop.
 */
export async function removeWaitingTrainingRun(
  queue: TrainingQueue,
  runId: string,
): Promise<boolean> {
  if ((await queue.remove(runId)) === 1) return true;
  // 0 means either no such job (already gone: nothing to remove) or a lock held by a worker.
  return (await queue.getJob(runId)) === undefined;
}
