import { describe, expect, it } from 'vitest';
import { pivotedCholesky, symmetricEigenvalues } from '../../src/metrics/linalg.js';
import { columnBands, transposedProduct } from '../../src/metrics/parallel-product.js';
import { lowRankPsd, normalFeatures } from '../helpers/random-features.js';

function naiveTransposedProduct(
  rows: number,
  a: Float64Array,
  aCols: number,
  b: Float64Array,
  bCols: number,
): Float64Array {
  const out = new Float64Array(aCols * bCols);
  for (let k = 0; k < rows; k++) {
    for (let i = 0; i < aCols; i++) {
      for (let j = 0; j < bCols; j++) out[i * bCols + j] += a[k * aCols + i] * b[k * bCols + j];
    }
  }
  return out;
}

function expectAllClose(got: Float64Array, want: Float64Array, tolerance: number): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThanOrEqual(tolerance));
}

describe('transposed product kernel', () => {
  it('matches the naive product for sizes that are not multiples of the block', async () => {
    const a = normalFeatures(301, 7, 1).data;
    const b = normalFeatures(301, 10, 2).data;
    const want = naiveTransposedProduct(301, a, 7, b, 10);
    for (const threads of [1, 2]) {
      const got = await transposedProduct(
        301,
        { data: a, cols: 7, mean: null },
        { data: b, cols: 10, mean: null },
        { threads },
      );
      expectAllClose(got, want, 1e-11);
    }
  });

  it('centres the rows and fills both triangles of A^T A', async () => {
    // 41 columns of 256 packed rows outgrow one 64 KiB page of kernel memory.
    const x = normalFeatures(300, 41, 3, 2, 5);
    const mean = new Float64Array(41).fill(5);
    const centred = x.data.map((v) => v - 5);
    const want = naiveTransposedProduct(300, centred, 41, centred, 41);
    for (const threads of [1, 2]) {
      const got = await transposedProduct(300, { data: x.data, cols: 41, mean }, null, { threads });
      expectAllClose(got, want, 1e-10);
    }
  });

  it('splits symmetric work into bands of about equal cost', () => {
    const bands = columnBands(512, 2, true);
    expect(bands).toEqual([
      [0, 362],
      [362, 512],
    ]);
    expect(columnBands(3, 8, false)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });
});

describe('symmetric eigenvalues', () => {
  it.each([3, 12, 61])('has the closed form 2 - 2 cos(k pi / (n + 1)) for n = %i', (n) => {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
    }
    const want = Float64Array.from(
      { length: n },
      (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)),
    );
    expectAllClose(symmetricEigenvalues(a, n), want, 1e-13);
  });

  it('keeps the trace and the Frobenius norm of a random symmetric matrix', () => {
    const n = 17;
    const g = normalFeatures(n, n, 4).data;
    const a = g.map((_, k) => g[k] + g[(k % n) * n + Math.floor(k / n)]);
    let trace = 0;
    let frobenius2 = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i];
    for (const v of a) frobenius2 += v * v;
    const eigenvalues = symmetricEigenvalues(a.slice(), n);
    expect(Math.abs(eigenvalues.reduce((s, e) => s + e, 0) - trace)).toBeLessThan(1e-11);
    expect(Math.abs(eigenvalues.reduce((s, e) => s + e * e, 0) - frobenius2)).toBeLessThan(1e-9);
  });

  it('finds the zero eigenvalues of a rank-deficient PSD matrix', () => {
    const eigenvalues = symmetricEigenvalues(lowRankPsd(10, 3, 5), 10);
    const largest = eigenvalues[9];
    eigenvalues.subarray(0, 7).forEach((e) => expect(Math.abs(e)).toBeLessThan(1e-13 * largest));
    expect(eigenvalues[7]).toBeGreaterThan(1e-3 * largest);
  });
});

describe('pivoted Cholesky', () => {
  it.each([
    [12, 4],
    [150, 100],
    [130, 130],
  ])('reveals the rank of a PSD matrix (size %i, rank %i) and reproduces it as F F^T', (n, r) => {
    const a = lowRankPsd(n, r, 6);
    const { factor, rank } = pivotedCholesky(a, n);
    expect(rank).toBe(r);
    const f = transpose(factor, n, rank);
    expectAllClose(naiveTransposedProduct(rank, f, n, f, n), a, 1e-12 * Math.max(...a));
  });

  it('gives rank 0 for the zero matrix', () => {
    expect(pivotedCholesky(new Float64Array(9), 3).rank).toBe(0);
  });
});

function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(x.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
  return t;
}
