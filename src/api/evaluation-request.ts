/**
 * Rules shared by on-demand evaluations (POST /v1/runs/:id/evaluations) and a run's evaluation
 * schedule: which extractor a metric can use, how many real images it can compare against, and
 * the defaults.
 */
import type { Dataset } from '../db/generated/client.js';
import type { ExtractorKind, MetricName } from '../gan/training-config.js';

/** Generated images per evaluation when the request does not say. */
export const defaultEvaluationSamples = 1000;

/**
 * Real images the metrics can read: Parzen windows read as many test images (scored) and
 * training images (to choose sigma); the other metrics read the chosen split.
 */
export function availableRealImages(
  metrics: readonly MetricName[],
  realSplit: 'train' | 'test',
  dataset: Dataset,
): number {
  if (metrics.includes('parzen')) return Math.min(dataset.testCount, dataset.trainCount);
  return realSplit === 'test' ? dataset.testCount : dataset.trainCount;
}

/** The requested count, or as many real images as generated ones while the split has them. */
export function defaultRealSamples(samples: number, available: number): number {
  return Math.min(samples, available);
}

/**
 * Whether an extractor can serve a metric: the Inception Score needs class probabilities, which
 * the classifier gives and Inception-v3's pool_3 features do not.
 */
export function extractorServes(metric: MetricName, extractor: ExtractorKind): boolean {
  return metric !== 'is' || extractor === 'classifier';
}
