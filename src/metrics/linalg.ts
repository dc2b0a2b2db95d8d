/**
 * The float64 linear algebra behind FID: means, covariances, a rank-revealing factor of a PSD
 * matrix, and the eigenvalues of a symmetric matrix. Square matrices are row-major Float64Arrays
 * of n * n values.
 */
import type { FeatureMatrix } from './feature-matrix.js';
import { transposedProduct } from './parallel-product.js';

export function columnMeans(x: FeatureMatrix): Float64Array {
  const mean = new Float64Array(x.cols);
  for (let i = 0; i < x.rows; i++) {
    const base = i * x.cols;
    for (let j = 0; j < x.cols; j++) mean[j] += x.data[base + j];
  }
  for (let j = 0; j < x.cols; j++) mean[j] /= x.rows;
  return mean;
}

/**
 * Unbiased sample covariance (divisor rows - 1) around `mean`. The rows are centred before they
 * are multiplied, which keeps the rounding error relative to the spread of the data and not to
 * the size of its mean, as E[xx^T] - mu mu^T would not.
 */
export async function covariance(
  x: FeatureMatrix,
  mean: Float64Array,
  threads?: number,
): Promise<Float64Array> {
  const scatter = await transposedProduct(x.rows, { data: x.data, cols: x.cols, mean }, null, {
    threads,
  });
  const scale = 1 / (x.rows - 1);
  for (let i = 0; i < scatter.length; i++) scatter[i] *= scale;
  return scatter;
}

export function trace(a: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i * n + i];
  return sum;
}

export interface PsdFactor {
  /** n x rank, row-major: the matrix is factor * factor^T up to the dropped remainder. */
  factor: Float64Array;
  rank: number;
}

/**
 * A = F F^T for a symmetric positive semi-definite A by Cholesky with complete (diagonal)
 * pivoting, stopping once every remaining pivot is below n * eps * max(diag A), as LAPACK's
 * dpstrf does (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., 10.3). What is
 * dropped is a PSD remainder with trace below that bound, so a rank-deficient A (fewer samples
 * than features, dead feature units) gives an exact-rank F and never a square root of a negative
 * round-off pivot. Left-looking, so each new column is a run of dot products over rows of F.
 */
export function pivotedCholesky(a: Float64Array, n: number): PsdFactor {
  const order = Array.from({ length: n }, (_, i) => i);
  const residual = new Float64Array(n);
  let largest = 0;
  for (let i = 0; i < n; i++) {
    residual[i] = a[i * n + i];
    largest = Math.max(largest, residual[i]);
  }
  const tolerance = n * Number.EPSILON * largest;
  const l = new Float64Array(n * n);

  let rank = 0;
  for (; rank < n; rank++) {
    let pivot = rank;
    for (let i = rank + 1; i < n; i++) if (residual[i] > residual[pivot]) pivot = i;
    if (!(residual[pivot] > tolerance)) break;
    swapRows(l, n, rank, pivot, rank);
    [order[rank], order[pivot]] = [order[pivot], order[rank]];
    [residual[rank], residual[pivot]] = [residual[pivot], residual[rank]];

    const diagonal = Math.sqrt(residual[rank]);
    const lk = rank * n;
    l[lk + rank] = diagonal;
    const column = order[rank] * n;
    for (let i = rank + 1; i < n; i++) {
      const li = i * n;
      let dot = 0;
      for (let j = 0; j < rank; j++) dot += l[li + j] * l[lk + j];
      const value = (a[column + order[i]] - dot) / diagonal;
      l[li + rank] = value;
      residual[i] -= value * value;
    }
  }

  const factor = new Float64Array(n * rank);
  for (let i = 0; i < n; i++) {
    factor.set(l.subarray(i * n, i * n + rank), order[i] * rank);
  }
  return { factor, rank };
}

function swapRows(l: Float64Array, n: number, i: number, j: number, length: number): void {
  for (let k = 0; k < length; k++) {
    const t = l[i * n + k];
    l[i * n + k] = l[j * n + k];
    l[j * n + k] = t;
  }
}

/**
 * Eigenvalues of a symmetric matrix (only its lower triangle is read; `a` is overwritten),
 * ascending. Householder reduction to tridiagonal form, then the implicit QL iteration with
 * Wilkinson shifts (Golub & Van Loan, "Matrix Computations", 4th ed., 8.3).
 */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  const { diagonal, offDiagonal } = tridiagonalize(a, n);
  tridiagonalEigenvalues(diagonal, offDiagonal);
  return diagonal.sort();
}

/**
 * Householder tridiagonalisation Q^T A Q = T working on the lower triangle only (Golub & Van
 * Loan 8.3.1): for column k, v zeroes A[k+2.., k]; the trailing block becomes
 * A - v w^T - w v^T with p = tau A v and w = p - (tau p.v / 2) v.
 */
function tridiagonalize(a: Float64Array, n: number) {
  const diagonal = new Float64Array(n);
  const offDiagonal = new Float64Array(n);
  const v = new Float64Array(n);
  const p = new Float64Array(n);

  for (let k = 0; k < n - 2; k++) {
    const start = k + 1;
    let norm2 = 0;
    for (let i = start; i < n; i++) {
      v[i] = a[i * n + k];
      norm2 += v[i] * v[i];
    }
    diagonal[k] = a[k * n + k];
    const tail = norm2 - v[start] * v[start];
    if (tail === 0) {
      offDiagonal[k] = v[start];
      continue;
    }
    const alpha = v[start] > 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    offDiagonal[k] = alpha;
    v[start] -= alpha;
    const tau = 2 / (tail + v[start] * v[start]);

    p.fill(0, start, n);
    for (let i = start; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      let sum = 0;
      for (let j = start; j < i; j++) {
        const aij = a[row + j];
        sum += aij * v[j];
        p[j] += aij * vi;
      }
      p[i] += sum + a[row + i] * vi;
    }
    let pv = 0;
    for (let i = start; i < n; i++) {
      p[i] *= tau;
      pv += p[i] * v[i];
    }
    const half = (tau * pv) / 2;
    for (let i = start; i < n; i++) p[i] -= half * v[i];

    for (let i = start; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      const wi = p[i];
      for (let j = start; j <= i; j++) a[row + j] -= vi * p[j] + wi * v[j];
    }
  }
  if (n >= 2) {
    diagonal[n - 2] = a[(n - 2) * n + n - 2];
    offDiagonal[n - 2] = a[(n - 1) * n + n - 2];
  }
  if (n >= 1) diagonal[n - 1] = a[n * n - 1];
  return { diagonal, offDiagonal };
}

/**
 * Implicit QL with Wilkinson shifts on a symmetric tridiagonal matrix: `diagonal` becomes its
 * eigenvalues; offDiagonal[i] couples i and i + 1 and is destroyed.
 */
function tridiagonalEigenvalues(diagonal: Float64Array, offDiagonal: Float64Array): void {
  const d = diagonal;
  const e = offDiagonal;
  const n = d.length;
  for (let l = 0; l < n; l++) {
    for (let iteration = 0; ; iteration++) {
      let m = l;
      for (; m < n - 1; m++) {
        if (Math.abs(e[m]) <= Number.EPSILON * (Math.abs(d[m]) + Math.abs(d[m + 1]))) break;
      }
      if (m === l) break;
      if (iteration === 60) throw new Error('tridiagonal QL did not converge');

      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}
