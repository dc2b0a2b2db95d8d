/**
 * Inception Score (Salimans et al., "Improved techniques for training GANs", 2016):
 * IS = exp( mean_x KL( p(y|x) || p(y) ) ) with p(y) the mean of the rows, computed on `splits`
 * contiguous parts of the rows and reported as the mean and (population) standard deviation over
 * the parts, as the original evaluation code does.
 */
import { GanforgeError } from '../errors.js';
import {
  assertFeatureMatrix,
  assertMinimumRows,
  assertPositiveInteger,
  type FeatureMatrix,
} from './feature-matrix.js';

export interface InceptionScore {
  mean: number;
  std: number;
  /** The score of each split, in order. */
  splits: number[];
}

/** How far a row's sum may stray from 1 before it is not a probability vector. */
export const probabilitySumTolerance = 1e-6;

/**
 * `probabilities`: one row of class probabilities p(y|x) per generated image. Rows must lie in
 * [0, 1] and sum to 1 within 1e-6; a row that does not is rejected rather than renormalised,
 * because it usually means logits or a wrong axis were passed.
 */
export function inceptionScore(
  probabilities: FeatureMatrix,
  options: { splits?: number } = {},
): InceptionScore {
  const splits = options.splits ?? 1;
  assertFeatureMatrix(probabilities, 'probabilities');
  assertPositiveInteger(splits, 'splits');
  assertMinimumRows(probabilities.rows, splits, 'probabilities');
  assertProbabilityRows(probabilities);

  const n = probabilities.rows;
  const scores: number[] = [];
  for (let s = 0; s < splits; s++) {
    scores.push(
      splitScore(probabilities, Math.floor((s * n) / splits), Math.floor(((s + 1) * n) / splits)),
    );
  }
  const mean = scores.reduce((sum, x) => sum + x, 0) / splits;
  const variance = scores.reduce((sum, x) => sum + (x - mean) ** 2, 0) / splits;
  return { mean, std: Math.sqrt(variance), splits: scores };
}

function splitScore(p: FeatureMatrix, start: number, end: number): number {
  const k = p.cols;
  const marginal = new Float64Array(k);
  for (let i = start; i < end; i++) {
    for (let j = 0; j < k; j++) marginal[j] += p.data[i * k + j];
  }
  const count = end - start;
  const logMarginal = marginal.map((m) => Math.log(m / count));

  let klSum = 0;
  for (let i = start; i < end; i++) {
    for (let j = 0; j < k; j++) {
      const pij = p.data[i * k + j];
      // 0 log 0 = 0: a one-hot row is the most confident prediction, not a NaN. Where p(y|x) > 0
      // the marginal is > 0 too, so the log below is finite.
      if (pij > 0) klSum += pij * (Math.log(pij) - logMarginal[j]);
    }
  }
  return Math.exp(klSum / count);
}

function assertProbabilityRows(p: FeatureMatrix): void {
  for (let i = 0; i < p.rows; i++) {
    let sum = 0;
    for (let j = 0; j < p.cols; j++) {
      const value = p.data[i * p.cols + j];
      if (value < 0 || value > 1) notProbabilities(i, 'has a value outside [0, 1]');
      sum += value;
    }
    if (Math.abs(sum - 1) > probabilitySumTolerance) notProbabilities(i, `sums to ${sum}`);
  }
}

function notProbabilities(row: number, problem: string): never {
  throw new GanforgeError(
    'GANFORGE_ERR_METRIC_NOT_PROBABILITIES',
    `probabilities: row ${row} ${problem}; pass softmax outputs, one row per image`,
    { row },
  );
}
