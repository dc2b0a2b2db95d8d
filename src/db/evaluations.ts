/**
 * Evaluation rows as the API and the training worker create them: queued, with every protocol
 * field the request fixes. The worker fills in what only the loaded extractor knows (its name,
 * weights hash and resize) and the score.
 */
import type { PrismaClient } from './client.js';
import type { Evaluation } from './generated/client.js';
import type { ExtractorKind, MetricName } from '../gan/training-config.js';

export interface EvaluationRequest {
  runId: string;
  checkpoint: { id: string; step: number };
  datasetId: string;
  metric: MetricName;
  /** Ignored by `parzen`, which works on pixels. */
  extractor: ExtractorKind;
  generatedSamples: number;
  realSamples: number;
  realSplit: 'train' | 'test';
}

/** What `extractor` is stored as for a metric: Parzen windows always see pixels. */
export function extractorOf(metric: MetricName, extractor: ExtractorKind): string {
  return metric === 'parzen' ? 'pixels' : extractor;
}

/**
 * What a score stores of the real images it compared against. The Inception Score reads none, so
 * its rows say 0 and `none` whatever was asked, and scores of one IS protocol rank together.
 */
export function realImagesOf(
  request: Pick<EvaluationRequest, 'metric' | 'realSamples' | 'realSplit'>,
): { realSamples: number; realSplit: string } {
  return request.metric === 'is'
    ? { realSamples: 0, realSplit: 'none' }
    : { realSamples: request.realSamples, realSplit: request.realSplit };
}

export function createQueuedEvaluation(
  prisma: PrismaClient,
  request: EvaluationRequest,
): Promise<Evaluation> {
  return prisma.evaluation.create({
    data: {
      runId: request.runId,
      checkpointId: request.checkpoint.id,
      step: request.checkpoint.step,
      datasetId: request.datasetId,
      metric: request.metric,
      extractor: extractorOf(request.metric, request.extractor),
      generatedSamples: request.generatedSamples,
      ...realImagesOf(request),
      status: 'queued',
    },
  });
}
