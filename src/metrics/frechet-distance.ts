/**
 * Fréchet distance between Gaussians fitted to two feature sets (FID; Heusel et al., "GANs
 * trained by a two time-scale update rule converge to a local Nash equilibrium", 2017):
 *
 *   FID = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr (S1^1/2 S2 S1^1/2)^1/2
 *
 * with unbiased covariances (divisor n - 1). The last trace is the sum of the square roots of
 * the eigenvalues of the symmetric PSD matrix S1^1/2 S2 S1^1/2, which are those of S1 S2. This
 * module reaches them through pivoted Cholesky factors of S1 and S2 and one symmetric eigenvalue
 * problem (see traceOfRootProduct): no eigenvectors, so a fraction of the work of two
 * eigendecompositions, and never a complex number. The general sqrtm(S1 S2) route is avoided:
 * S1 S2 is not symmetric, and with singular covariances it yields imaginary parts and negative
 * round-off eigenvalues.
 */
import {
  assertFeatureMatrix,
  assertMinimumRows,
  assertSameDimensions,
  type FeatureMatrix,
} from './feature-matrix.js';
import { columnMeans, covariance, pivotedCholesky, symmetricEigenvalues, trace } from './linalg.js';
import { transposedProduct } from './parallel-product.js';

/** Mean and covariance of a feature set: what is stored of the real data between evaluations. */
export interface GaussianStatistics {
  count: number;
  dims: number;
  mean: Float64Array;
  /** dims x dims, row-major. */
  covariance: Float64Array;
}

export interface FrechetDistance {
  fid: number;
  /** Conditions under which the value is valid but biased, e.g. fewer samples than dims. */
  warnings: string[];
}

export interface MetricThreads {
  /** Threads for the large products; by default 1 for small inputs, else every core. */
  threads?: number;
}

export async function gaussianStatistics(
  x: FeatureMatrix,
  options: MetricThreads = {},
): Promise<GaussianStatistics> {
  assertFeatureMatrix(x, 'features');
  assertMinimumRows(x.rows, 2, 'features');
  const mean = columnMeans(x);
  return {
    count: x.rows,
    dims: x.cols,
    mean,
    covariance: await covariance(x, mean, options.threads),
  };
}

export async function frechetDistance(
  a: FeatureMatrix,
  b: FeatureMatrix,
  options: MetricThreads = {},
): Promise<FrechetDistance> {
  assertFeatureMatrix(a, 'a');
  assertFeatureMatrix(b, 'b');
  assertSameDimensions(a.cols, b.cols);
  assertMinimumRows(a.rows, 2, 'a');
  assertMinimumRows(b.rows, 2, 'b');
  return frechetDistanceFromStatistics(
    await gaussianStatistics(a, options),
    await gaussianStatistics(b, options),
    options,
  );
}

export async function frechetDistanceFromStatistics(
  a: GaussianStatistics,
  b: GaussianStatistics,
  options: MetricThreads = {},
): Promise<FrechetDistance> {
  assertStatistics(a, 'a');
  assertStatistics(b, 'b');
  assertSameDimensions(a.dims, b.dims);
  const n = a.dims;

  let meanDistance = 0;
  for (let j = 0; j < n; j++) meanDistance += (a.mean[j] - b.mean[j]) ** 2;

  const rootTrace = await traceOfRootProduct(a.covariance, b.covariance, n, options.threads);
  const fid = meanDistance + trace(a.covariance, n) + trace(b.covariance, n) - 2 * rootTrace;
  const warnings = [singularWarning('a', a.count, n), singularWarning('b', b.count, n)].filter(
    (w): w is string => w !== null,
  );
  // A squared distance; below zero only by rounding (FID of a set with itself).
  return { fid: Math.max(fid, 0), warnings };
}

/** Statistics read back from storage: consistent sizes and finite values. */
function assertStatistics(stats: GaussianStatistics, name: string): void {
  const { dims, mean, covariance } = stats;
  assertFeatureMatrix({ rows: 1, cols: dims, data: mean }, `${name}.mean`);
  assertFeatureMatrix({ rows: dims, cols: dims, data: covariance }, `${name}.covariance`);
  assertMinimumRows(stats.count, 2, name);
}

/** Case 02's advice: n <= d is allowed (the value is still exact) but strongly biased. */
function singularWarning(name: string, count: number, dims: number): string | null {
  return count <= dims
    ? `${name} has ${count} samples for ${dims} dims: its covariance is singular, FID is biased`
    : null;
}

/**
 * tr (S1 S2)^1/2 for PSD S1 = F1 F1^T and S2 = F2 F2^T: the non-zero eigenvalues of S1 S2 are
 * the squared singular values of K = F2^T F1, so the trace is the sum of the square roots of the
 * eigenvalues of the smaller Gram matrix of K. Factoring both sides keeps the Gram matrix at the
 * smaller of the two ranks, so a rank-deficient pair does not add zero eigenvalues whose
 * round-off (~eps |S|) the square root would magnify to ~sqrt(eps) |S|^1/2.
 */
async function traceOfRootProduct(
  s1: Float64Array,
  s2: Float64Array,
  n: number,
  threads?: number,
): Promise<number> {
  const f1 = pivotedCholesky(s1, n);
  const f2 = pivotedCholesky(s2, n);
  if (f1.rank === 0 || f2.rank === 0) return 0;

  // The product's rows are K's Gram dimension; its columns are what the Gram sums over.
  const [inner, outer] = f1.rank <= f2.rank ? [f1, f2] : [f2, f1];
  const k = await transposedProduct(
    n,
    { data: outer.factor, cols: outer.rank, mean: null },
    { data: inner.factor, cols: inner.rank, mean: null },
    { threads },
  );
  const gram = await transposedProduct(
    outer.rank,
    { data: k, cols: inner.rank, mean: null },
    null,
    {
      threads,
    },
  );
  let sum = 0;
  // Eigenvalues of a PSD matrix below zero are round-off; their true value is 0.
  for (const eigenvalue of symmetricEigenvalues(gram, inner.rank)) {
    sum += Math.sqrt(Math.max(eigenvalue, 0));
  }
  return sum;
}
