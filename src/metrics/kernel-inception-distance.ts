/**
 * Kernel Inception Distance (Bińkowski et al., "Demystifying MMD GANs", 2018): the unbiased
 * estimate of the squared maximum mean discrepancy between two feature sets under the cubic
 * polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets of equal size.
 * Unlike FID it is unbiased, so it is near 0 (possibly below) for two samples of one distribution.
 */
import { GanforgeError } from '../errors.js';
import {
  assertFeatureMatrix,
  assertMinimumRows,
  assertPositiveInteger,
  assertSameDimensions,
  type FeatureMatrix,
} from './feature-matrix.js';
import type { MetricThreads } from './frechet-distance.js';
import { transposedProduct } from './parallel-product.js';
import { sampleWithoutReplacement, seededUniform } from './random-subsets.js';

export interface KernelInceptionDistance {
  mean: number;
  /** Population standard deviation over the subsets. */
  std: number;
  subsets: number[];
}

export interface KidOptions extends MetricThreads {
  /** Subsets drawn (default 100, as in the paper's code). */
  subsets?: number;
  /** Rows per subset from each set (default min(1000, rows of a, rows of b)). */
  subsetSize?: number;
  /** Seed of the subset draws (default 0). */
  seed?: number;
}

export async function kernelInceptionDistance(
  a: FeatureMatrix,
  b: FeatureMatrix,
  options: KidOptions = {},
): Promise<KernelInceptionDistance> {
  assertFeatureMatrix(a, 'a');
  assertFeatureMatrix(b, 'b');
  assertSameDimensions(a.cols, b.cols);
  assertMinimumRows(a.rows, 2, 'a');
  assertMinimumRows(b.rows, 2, 'b');
  const count = options.subsets ?? 100;
  const size = options.subsetSize ?? Math.min(1000, a.rows, b.rows);
  assertPositiveInteger(count, 'subsets');
  assertPositiveInteger(size, 'subsetSize');
  if (size < 2 || size > Math.min(a.rows, b.rows)) {
    throw new GanforgeError(
      'GANFORGE_ERR_METRIC_INPUT',
      `subsetSize must be between 2 and the smaller set's ${Math.min(a.rows, b.rows)} rows`,
      { subsetSize: size },
    );
  }

  const uniform = seededUniform(options.seed ?? 0);
  const scores: number[] = [];
  for (let s = 0; s < count; s++) {
    const x = transposedSubset(a, sampleWithoutReplacement(a.rows, size, uniform));
    const y = transposedSubset(b, sampleWithoutReplacement(b.rows, size, uniform));
    scores.push(await unbiasedMmd2(x, y, size, a.cols, options.threads));
  }
  const mean = scores.reduce((sum, v) => sum + v, 0) / count;
  const variance = scores.reduce((sum, v) => sum + (v - mean) ** 2, 0) / count;
  return { mean, std: Math.sqrt(variance), subsets: scores };
}

/** The chosen rows as the columns of a dims x size matrix, so Gram matrices are X^T X. */
function transposedSubset(x: FeatureMatrix, indices: Int32Array): Float64Array {
  const out = new Float64Array(x.cols * indices.length);
  indices.forEach((source, column) => {
    for (let j = 0; j < x.cols; j++) out[j * indices.length + column] = x.data[source * x.cols + j];
  });
  return out;
}

/**
 * MMD^2_u = sum_{i!=j} k(x_i, x_j) / m(m-1) + sum_{i!=j} k(y_i, y_j) / m(m-1)
 *         - 2 sum_{i,j} k(x_i, y_j) / m^2   (Gretton et al., JMLR 2012, eq. 3)
 */
async function unbiasedMmd2(
  x: Float64Array,
  y: Float64Array,
  m: number,
  dims: number,
  threads?: number,
): Promise<number> {
  const operand = (data: Float64Array) => ({ data, cols: m, mean: null });
  const kxx = await transposedProduct(dims, operand(x), null, { threads });
  const kyy = await transposedProduct(dims, operand(y), null, { threads });
  const kxy = await transposedProduct(dims, operand(x), operand(y), { threads });
  const kernel = (dot: number) => (dot / dims + 1) ** 3;
  let sumXx = 0;
  let sumYy = 0;
  let sumXy = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const at = i * m + j;
      if (i !== j) {
        sumXx += kernel(kxx[at]);
        sumYy += kernel(kyy[at]);
      }
      sumXy += kernel(kxy[at]);
    }
  }
  return (sumXx + sumYy) / (m * (m - 1)) - (2 * sumXy) / (m * m);
}
