/**
 * Evaluations a run schedules for itself (config.evaluation): after the checkpoint of a scheduled
 * step is saved, one queued evaluation per metric. Training never waits for them; they run on
 * whichever worker takes them from the `evaluation` queue. A resumed run queues them again for the
 * checkpoint it resumes from, which is a no-op for those already there: a worker that died between
 * saving the checkpoint and queueing them (or a Redis that refused a job) loses none.
 */
import type { PrismaClient } from '../db/client.js';
import { createQueuedEvaluation, extractorOf, realImagesOf } from '../db/evaluations.js';
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
    const request = {
      runId,
      checkpoint,
      datasetId: config.dataset,
      metric,
      extractor: schedule.extractor,
      generatedSamples: schedule.samples,
      realSamples: schedule.realSamples,
      realSplit: metric === 'parzen' ? ('test' as const) : schedule.realSplit,
    };
    const existing = await prisma.evaluation.findFirst({
      where: {
        checkpointId: checkpoint.id,
        metric,
        extractor: extractorOf(metric, request.extractor),
        generatedSamples: request.generatedSamples,
        ...realImagesOf(request),
      },
    });
    if (existing && existing.status !== 'queued') continue;
    const evaluation = existing ?? (await createQueuedEvaluation(prisma, request));
    // The job id is the evaluation id: a job still in the queue is not added twice.
    await enqueueEvaluation(queue, evaluation.id);
  }
}
