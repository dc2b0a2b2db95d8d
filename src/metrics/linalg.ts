/**
 * The float64 linear algebra behind FID: means, covariances, a rank-revealing factor of a PSD
 * matrix, and the eigenvalues of a symmetric matrix. Square matrices are row-major Float64Arrays
 * of n * n values.
 */
import type { FeatureMatrix } from './feature-matrix.js';
import { transposedProduct, transposedProductOnThisThread } from './parallel-product.js';
import { compileTridiagonalRowKernel } from './simd-kernels.js';

let compiledRowKernel: WebAssembly.Module | null = null;

function tridiagonalRowKernel(): WebAssembly.Module {
  compiledRowKernel ??= compileTridiagonalRowKernel();
  return compiledRowKernel;
}

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
 * round-off pivot. Blocked like dpstrf: columns are formed one by one within a block of 64, and
 * the rest of the matrix is then updated with the whole block at once by the product kernel.
 */
export function pivotedCholesky(a: Float64Array, n: number): PsdFactor {
  const work = a.slice();
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
  for (let j0 = 0; j0 < n && rank === j0; j0 += choleskyBlock) {
    const j1 = Math.min(j0 + choleskyBlock, n);
    for (let k = j0; k < j1; k++) {
      let pivot = k;
      for (let i = k + 1; i < n; i++) if (residual[i] > residual[pivot]) pivot = i;
      if (!(residual[pivot] > tolerance)) break;
      swapPositions(work, l, n, k, pivot);
      [order[k], order[pivot]] = [order[pivot], order[k]];
      [residual[k], residual[pivot]] = [residual[pivot], residual[k]];

      const diagonal = Math.sqrt(residual[k]);
      const lk = k * n;
      l[lk + k] = diagonal;
      for (let i = k + 1; i < n; i++) {
        const li = i * n;
        let dot = 0;
        for (let j = j0; j < k; j++) dot += l[li + j] * l[lk + j];
        const value = (work[li + k] - dot) / diagonal;
        l[li + k] = value;
        residual[i] -= value * value;
      }
      rank = k + 1;
    }
    if (rank === j1 && j1 < n) updateTrailing(work, l, n, j0, j1);
  }

  const factor = new Float64Array(n * rank);
  for (let i = 0; i < n; i++) {
    factor.set(l.subarray(i * n, i * n + rank), order[i] * rank);
  }
  return { factor, rank };
}

/** Columns of the pivoted Cholesky factor formed per block before the trailing update. */
const choleskyBlock = 64;

/** Swaps positions i and j: rows and columns of the working matrix, rows of the factor. */
function swapPositions(work: Float64Array, l: Float64Array, n: number, i: number, j: number): void {
  if (i === j) return;
  for (let k = 0; k < n; k++) {
    [work[i * n + k], work[j * n + k]] = [work[j * n + k], work[i * n + k]];
    [l[i * n + k], l[j * n + k]] = [l[j * n + k], l[i * n + k]];
  }
  for (let k = 0; k < n; k++)
    [work[k * n + i], work[k * n + j]] = [work[k * n + j], work[k * n + i]];
}

/** work[j1.., j1..] -= L[j1.., j0..j1) L[j1.., j0..j1)^T, one symmetric rank-block update. */
function updateTrailing(work: Float64Array, l: Float64Array, n: number, j0: number, j1: number) {
  const m = n - j1;
  const width = j1 - j0;
  const block = new Float64Array(width * m);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < width; c++) block[c * m + i] = l[(j1 + i) * n + j0 + c];
  }
  const update = transposedProductOnThisThread(width, { data: block, cols: m, mean: null }, null);
  for (let i = 0; i < m; i++) {
    const row = (j1 + i) * n + j1;
    for (let j = 0; j < m; j++) work[row + j] -= update[i * m + j];
  }
}

/**
 * Eigenvalues of a symmetric matrix (only its lower triangle is read), ascending. Householder
 * reduction to tridiagonal form, then the implicit QL iteration with Wilkinson shifts (Golub &
 * Van Loan, "Matrix Computations", 4th ed., 8.3).
 */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  const { diagonal, offDiagonal } = tridiagonalize(a, n);
  tridiagonalEigenvalues(diagonal, offDiagonal);
  return diagonal.sort();
}

/**
 * Householder tridiagonalisation Q^T A Q = T on the lower triangle only (Golub & Van Loan
 * 8.3.1): for column k, H = I - tau v v^T zeroes A[k+2.., k], and the trailing block becomes
 * A - v w^T - w v^T with p = tau A v and w = p - (tau p.v / 2) v. The next column is updated
 * first, so the next reflector is known before the pass over the trailing block; that one pass
 * then both applies this update and computes the next A v, reading the matrix once per column
 * instead of twice (the matrix is far larger than the caches, so memory traffic sets the pace).
 */
function tridiagonalize(matrix: Float64Array, n: number) {
  const diagonal = new Float64Array(n);
  const offDiagonal = new Float64Array(n);
  const column = new Float64Array(n);

  // The matrix and the vectors of the fused pass live in the SIMD row kernel's memory.
  const memory = new WebAssembly.Memory({ initial: Math.ceil(((n * n + 5 * n) * 8) / 65536) });
  const instance = new WebAssembly.Instance(tridiagonalRowKernel(), { env: { memory } });
  const fusedRow = instance.exports.tridiagonalRow as (
    ...args: [number, number, number, number, number, number, number, number, number]
  ) => number;
  const a = new Float64Array(memory.buffer, 0, n * n);
  a.set(matrix.subarray(0, n * n));
  const vector = (k: number) => new Float64Array(memory.buffer, (n * n + k * n) * 8, n);
  let [v, p, nextV, nextP] = [vector(0), vector(1), vector(2), vector(3)];
  const w = vector(4);

  let reflector = { alpha: 0, tau: 0 };
  if (n >= 3) {
    for (let i = 1; i < n; i++) column[i] = a[i * n];
    reflector = householder(column, v, 1, n);
    symmetricProduct(a, n, v, p, 1);
  }
  for (let k = 0; k < n - 2; k++) {
    const start = k + 1;
    diagonal[k] = a[k * n + k];
    offDiagonal[k] = reflector.alpha;
    const { tau } = reflector;
    let pv = 0;
    for (let i = start; i < n; i++) pv += tau * p[i] * v[i];
    for (let i = start; i < n; i++) w[i] = tau * p[i] - ((tau * pv) / 2) * v[i];

    const next = start + 1;
    const hasNext = next < n - 1;
    if (hasNext) {
      for (let i = next; i < n; i++) {
        column[i] = a[i * n + start] - (v[i] * w[start] + w[i] * v[start]);
      }
      reflector = householder(column, nextV, next, n);
      nextP.fill(0, next, n);
    }

    for (let i = start; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      const wi = w[i];
      a[row + start] -= vi * w[start] + wi * v[start];
      if (i < next || !hasNext) {
        for (let j = next; j <= i; j++) a[row + j] -= vi * w[j] + wi * v[j];
        continue;
      }
      const nextVi = nextV[i];
      const pairs = (i - next) >> 1;
      const at = (x: Float64Array) => x.byteOffset + next * 8;
      let sum = 0;
      if (pairs > 0) {
        sum = fusedRow(at(a) + row * 8, at(v), at(w), at(nextV), at(nextP), pairs, vi, wi, nextVi);
      }
      for (let j = next + 2 * pairs; j < i; j++) {
        const aij = a[row + j] - (vi * w[j] + wi * v[j]);
        a[row + j] = aij;
        sum += aij * nextV[j];
        nextP[j] += aij * nextVi;
      }
      const aii = a[row + i] - 2 * vi * wi;
      a[row + i] = aii;
      nextP[i] += sum + aii * nextVi;
    }
    [v, nextV] = [nextV, v];
    [p, nextP] = [nextP, p];
  }
  if (n >= 2) {
    diagonal[n - 2] = a[(n - 2) * n + n - 2];
    offDiagonal[n - 2] = a[(n - 1) * n + n - 2];
  }
  if (n >= 1) diagonal[n - 1] = a[n * n - 1];
  return { diagonal, offDiagonal };
}

/**
 * The reflector that maps x = column[start..n) onto alpha e1: v = x - alpha e1 written to `v`,
 * alpha = -sign(x0) |x| (no cancellation in x0 - alpha), tau = 2 / v.v; tau = 0 when x is
 * already a multiple of e1.
 */
function householder(column: Float64Array, v: Float64Array, start: number, n: number) {
  let tail = 0;
  for (let i = start + 1; i < n; i++) {
    v[i] = column[i];
    tail += column[i] * column[i];
  }
  const x0 = column[start];
  if (tail === 0) {
    v[start] = 0;
    return { alpha: x0, tau: 0 };
  }
  const norm = Math.sqrt(tail + x0 * x0);
  const alpha = x0 > 0 ? -norm : norm;
  v[start] = x0 - alpha;
  return { alpha, tau: 2 / (tail + v[start] * v[start]) };
}

/** p = A v over rows and columns start..n-1, reading the lower triangle of A. */
function symmetricProduct(
  a: Float64Array,
  n: number,
  v: Float64Array,
  p: Float64Array,
  start: number,
): void {
  p.fill(0, start, n);
  for (let i = start; i < n; i++) {
    const row = i * n;
    const vi = v[i];
    let sum = 0;
    for (let j = start; j < i; j++) {
      sum += a[row + j] * v[j];
      p[j] += a[row + j] * vi;
    }
    p[i] += sum + a[row + i] * vi;
  }
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
