/**
 * Evaluations a run schedules for itself (config.evaluation): after the checkpoint of a scheduled
 * step is saved, one queued evaluation per metric. Training never waits for them; they run on
 * whichever worker takes them from the `evaluation` queue.
 */
import type { PrismaClient } from '../db/client.js';
import { createQueuedEvaluation } from '../db/evaluations.js';
import type { TrainingConfig } from '../gan/training-config.js';
import { enqueueEvaluation, type EvaluationQueue } from '../queue/evaluation-queue.js';

/** Steps that are a multiple of `every`, and the last step. */
export function isScheduledEvaluationStep(config: TrainingConfig, step: number): boolean {
  const schedule = config.evaluation;
  return schedule !== undefined && (step % schedule.every === 0 || step === config.steps);
}

export async function queueScheduledEvaluations(
  prisma: PrismaClient,
  queue: EvaluationQueue,
  runId: string,
  config: TrainingConfig,
  checkpoint: { id: string; step: number },
): Promise<void> {
  const schedule = config.evaluation;
  if (!schedule) return;
  for (const metric of schedule.metrics) {
    const evaluation = await createQueuedEvaluation(prisma, {
      runId,
      checkpoint,
      datasetId: config.dataset,
      metric,
      extractor: schedule.extractor,
      generatedSamples: schedule.samples,
      realSamples: schedule.realSamples,
      realSplit: metric === 'parzen' ? 'test' : schedule.realSplit,
    });
    await enqueueEvaluation(queue, evaluation.id);
  }
}
