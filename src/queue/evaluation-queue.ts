import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** BullMQ queue that carries evaluations (scheduled by training or asked for over HTTP). */
export const evaluationQueueName = 'evaluation';

/** An evaluation job names its Evaluation row, which holds the metric and its protocol. */
export interface EvaluationJobData {
  evaluationId: string;
}

export type EvaluationQueue = Queue<EvaluationJobData>;

/**
 * Attempts per evaluation. Only a lost worker or an unreachable service is retried: a missing
 * checkpoint or an unusable metric fails the same way every time and is unrecoverable.
 */
export const evaluationAttempts = 2;

const retryDelayMs = 1000;

/** Bounds on finished jobs kept in Redis; the Evaluation row is the record. */
const keepCompleted = { count: 1000, age: 7 * 24 * 3600 };
const keepFailed = { count: 5000, age: 30 * 24 * 3600 };

export function createEvaluationQueue(connection: Redis, prefix: string): EvaluationQueue {
  return new Queue<EvaluationJobData>(evaluationQueueName, { connection, prefix });
}

/** Adds an evaluation's job; the job id is the evaluation id, so it is never queued twice. */
export async function enqueueEvaluation(
  queue: EvaluationQueue,
  evaluationId: string,
): Promise<void> {
  await queue.add(
    'evaluate',
    { evaluationId },
    {
      jobId: evaluationId,
      attempts: evaluationAttempts,
      backoff: { type: 'exponential', delay: retryDelayMs },
      removeOnComplete: keepCompleted,
      removeOnFail: keepFailed,
    },
  );
}
