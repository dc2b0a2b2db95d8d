/**
 * Gaussian Parzen-window log-likelihood of test points under generated samples, the estimate
 * used to evaluate the original GAN (Goodfellow et al. 2014, after Breuleux et al. 2011):
 *
 *   log p(x) = logmeanexp_i( -|x - g_i|^2 / 2 sigma^2 ) - d log(sigma sqrt(2 pi))
 *
 * The log-mean-exp is shifted by its largest term, so a test point far from every sample gives
 * a large negative number rather than log(0) = -Infinity. Samples, test points and sigma must
 * share one value scale (e.g. pixels in [0, 1]); the numbers mean nothing otherwise.
 */
import { GanforgeError } from '../errors.js';
import {
  assertFeatureMatrix,
  assertMinimumRows,
  assertSameDimensions,
  type FeatureMatrix,
} from './feature-matrix.js';

export interface ParzenLogLikelihood {
  sigma: number;
  perPoint: number[];
  mean: number;
  /** Population standard deviation of perPoint over sqrt(count), as the GAN paper reports. */
  standardError: number;
}

export interface ParzenEvaluation extends ParzenLogLikelihood {
  /** Mean validation log-likelihood of each candidate sigma, in grid order. */
  validationMeans: number[];
}

/** The GAN paper's candidate widths: 10 values from 0.1 to 1, evenly spaced in log scale. */
export const defaultSigmaGrid: readonly number[] = Array.from(
  { length: 10 },
  (_, i) => 10 ** (i / 9 - 1),
);

export function parzenLogLikelihood(
  generated: FeatureMatrix,
  test: FeatureMatrix,
  sigma: number,
): ParzenLogLikelihood {
  assertParzenInputs(generated, test, 'test');
  assertSigma(sigma);
  const d = generated.cols;
  const logNormaliser = d * Math.log(sigma * Math.sqrt(2 * Math.PI)) + Math.log(generated.rows);
  const exponents = new Float64Array(generated.rows);
  const perPoint: number[] = [];
  for (let t = 0; t < test.rows; t++) {
    let largest = -Infinity;
    for (let g = 0; g < generated.rows; g++) {
      let distance2 = 0;
      for (let j = 0; j < d; j++) {
        const diff = test.data[t * d + j] - generated.data[g * d + j];
        distance2 += diff * diff;
      }
      exponents[g] = -distance2 / (2 * sigma * sigma);
      largest = Math.max(largest, exponents[g]);
    }
    let sum = 0;
    for (let g = 0; g < generated.rows; g++) sum += Math.exp(exponents[g] - largest);
    perPoint.push(largest + Math.log(sum) - logNormaliser);
  }
  const mean = perPoint.reduce((s, v) => s + v, 0) / perPoint.length;
  const variance = perPoint.reduce((s, v) => s + (v - mean) ** 2, 0) / perPoint.length;
  return { sigma, perPoint, mean, standardError: Math.sqrt(variance / perPoint.length) };
}

/**
 * Picks sigma from `grid` by the mean log-likelihood of `validation` (never of `test`, which
 * would tune the estimate to the data it reports on), then scores `test` with it.
 */
export function parzenWindowEvaluation(
  generated: FeatureMatrix,
  validation: FeatureMatrix,
  test: FeatureMatrix,
  grid: readonly number[] = defaultSigmaGrid,
): ParzenEvaluation {
  assertParzenInputs(generated, validation, 'validation');
  if (grid.length === 0) {
    throw new GanforgeError('GANFORGE_ERR_METRIC_INPUT', 'the sigma grid is empty');
  }
  const validationMeans = grid.map(
    (sigma) => parzenLogLikelihood(generated, validation, sigma).mean,
  );
  let best = 0;
  validationMeans.forEach((m, i) => {
    if (m > validationMeans[best]) best = i;
  });
  return { ...parzenLogLikelihood(generated, test, grid[best]), validationMeans };
}

function assertParzenInputs(generated: FeatureMatrix, points: FeatureMatrix, name: string): void {
  assertFeatureMatrix(generated, 'generated');
  assertFeatureMatrix(points, name);
  assertSameDimensions(generated.cols, points.cols);
  assertMinimumRows(generated.rows, 1, 'generated');
  assertMinimumRows(points.rows, 1, name);
}

function assertSigma(sigma: number): void {
  // 2 sigma^2 divides every squared distance: it must neither underflow to 0 nor overflow.
  const twoVariance = 2 * sigma * sigma;
  if (!(sigma > 0) || !(twoVariance > 0) || !Number.isFinite(twoVariance)) {
    throw new GanforgeError(
      'GANFORGE_ERR_METRIC_INPUT',
      'sigma must be a positive number whose square is a normal double (about 1e-154 to 1e154)',
      { sigma },
    );
  }
}
