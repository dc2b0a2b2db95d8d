/**
 * One stored score from generated and real samples. The metric options are fixed here, not per
 * request, so that two scores with the same protocol row were computed the same way: 10 Inception
 * Score splits (Salimans et al. 2016), 100 KID subsets of up to 1,000 rows (Binkowski et al.
 * 2018), k = 3 neighbours for precision and recall (Kynkaanniemi et al. 2019), and the GAN
 * paper's sigma grid for the Parzen window (Goodfellow et al. 2014).
 */
import { GanforgeError } from '../errors.js';
import type { MetricName } from '../gan/training-config.js';
import type { ExtractedFeatures } from '../metrics/extractors/feature-extractor.js';
import type { FeatureMatrix } from '../metrics/feature-matrix.js';
import { frechetDistance } from '../metrics/frechet-distance.js';
import { inceptionScore } from '../metrics/inception-score.js';
import { kernelInceptionDistance } from '../metrics/kernel-inception-distance.js';
import { parzenWindowEvaluation } from '../metrics/parzen-window.js';
import { precisionRecall } from '../metrics/precision-recall.js';

export const inceptionScoreSplits = 10;
export const kidSubsets = 100;
export const kidMaxSubsetSize = 1000;
export const precisionRecallNeighbours = 3;

/** Everything a score is computed from: plain data, so it can cross to a worker thread. */
export type ScoreInput =
  | { metric: 'parzen'; generated: FeatureMatrix; validation: FeatureMatrix; test: FeatureMatrix }
  | {
      metric: Exclude<MetricName, 'parzen'>;
      generated: ExtractedFeatures;
      real: ExtractedFeatures | null;
      extractorName: string;
    };

export interface Score {
  /** FID, IS mean, KID mean, Parzen mean log-likelihood or precision. */
  value: number;
  /** Everything else the metric reports. */
  result: Record<string, unknown>;
}

export function computeScore(input: ScoreInput): Promise<Score> | Score {
  return input.metric === 'parzen'
    ? parzenScore(input.generated, input.validation, input.test)
    : featureScore(input.metric, input.generated, input.real, input.extractorName);
}

/** Whether the metric compares with real features (IS looks at generated samples only). */
export function needsRealFeatures(metric: MetricName): boolean {
  return metric !== 'is';
}

export async function featureScore(
  metric: Exclude<MetricName, 'parzen'>,
  generated: ExtractedFeatures,
  real: ExtractedFeatures | null,
  extractorName: string,
): Promise<Score> {
  if (metric === 'is') {
    if (!generated.probabilities) {
      throw new GanforgeError(
        'GANFORGE_ERR_METRIC_UNSUPPORTED',
        `extractor ${extractorName} has no classifier head for the Inception Score`,
        { metric, extractor: extractorName },
      );
    }
    const score = inceptionScore(generated.probabilities, { splits: inceptionScoreSplits });
    return {
      value: score.mean,
      result: { mean: score.mean, std: score.std, splits: score.splits },
    };
  }
  if (!real) throw new Error(`${metric} needs real features`);
  if (metric === 'fid') {
    const { fid, warnings } = await frechetDistance(generated.features, real.features);
    return { value: fid, result: { fid, warnings } };
  }
  if (metric === 'kid') {
    const subsetSize = Math.min(kidMaxSubsetSize, generated.features.rows, real.features.rows);
    const kid = await kernelInceptionDistance(generated.features, real.features, {
      subsets: kidSubsets,
      subsetSize,
      seed: 0,
    });
    return {
      value: kid.mean,
      result: { mean: kid.mean, std: kid.std, subsets: kidSubsets, subsetSize },
    };
  }
  const pr = precisionRecall(real.features, generated.features, { k: precisionRecallNeighbours });
  return { value: pr.precision, result: { precision: pr.precision, recall: pr.recall, k: pr.k } };
}

/**
 * Parzen window log-likelihood of real test images under a Gaussian kernel density on generated
 * images, in pixel space with values in [0, 1]; sigma is chosen on `validation`.
 */
export function parzenScore(
  generated: FeatureMatrix,
  validation: FeatureMatrix,
  test: FeatureMatrix,
): Score {
  const parzen = parzenWindowEvaluation(generated, validation, test);
  return {
    value: parzen.mean,
    result: {
      mean: parzen.mean,
      standardError: parzen.standardError,
      sigma: parzen.sigma,
      validationMeans: parzen.validationMeans,
    },
  };
}
