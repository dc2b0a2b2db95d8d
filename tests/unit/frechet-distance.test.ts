import { describe, expect, it } from 'vitest';
import { featureMatrix } from '../../src/metrics/feature-matrix.js';
import {
  frechetDistance,
  frechetDistanceFromStatistics,
  type GaussianStatistics,
} from '../../src/metrics/frechet-distance.js';
import { readCase } from '../helpers/cases.js';
import { mapColumns, normalFeatures } from '../helpers/random-features.js';

const identicalCase = '01-fid-identical-and-closed-form';
const rankDeficientCase = '02-fid-rank-deficient-imaginary-sqrtm';

interface Case01Input {
  X: number[][];
  shift: number[];
  scale: number;
}
interface Case01Expected {
  identical: { fid: number };
  shifted: { fid: number };
  scaled: { fid: number };
  identical_large_scale: { fid: number; trace_of_cov: number };
}
interface Case02Expected {
  fid: number;
  diagnostics: { wrong_eigvalsh_on_nonsymmetric_product: number };
}

/** Case 01's float64 tolerance for the shifted and scaled sets: abs 1e-6 or rel 1e-9. */
function expectCase01Close(got: number, want: number): void {
  expect(Number.isFinite(got)).toBe(true);
  expect(Math.abs(got - want)).toBeLessThanOrEqual(Math.max(1e-6, 1e-9 * Math.abs(want)));
}

describe('FID on the shared cases', () => {
  const input = readCase<Case01Input>(identicalCase, 'input.json');
  const expected = readCase<Case01Expected>(identicalCase, 'expected.json');
  const x = featureMatrix(input.X);

  it('is 0 for a set with itself, also at feature magnitudes of ~5000 (case 01)', async () => {
    const { fid } = await frechetDistance(x, x);
    expect(Math.abs(fid - expected.identical.fid)).toBeLessThanOrEqual(1e-6);

    const large = mapColumns(x, (v) => 5000 * v);
    const { fid: largeFid } = await frechetDistance(large, large);
    const want = expected.identical_large_scale;
    expect(Math.abs(largeFid - want.fid)).toBeLessThanOrEqual(1e-9 * want.trace_of_cov);
  });

  it('matches the closed forms of a shifted and a scaled set (case 01)', async () => {
    const shifted = mapColumns(x, (v, j) => v + input.shift[j]);
    const scaled = mapColumns(x, (v) => v * input.scale);
    expectCase01Close((await frechetDistance(x, shifted)).fid, expected.shifted.fid);
    expectCase01Close((await frechetDistance(x, scaled)).fid, expected.scaled.fid);
  });

  it('is real and exact for rank-deficient covariances with dead units (case 02)', async () => {
    const { X, Y } = readCase<{ X: number[][]; Y: number[][] }>(rankDeficientCase, 'input.json');
    const want = readCase<Case02Expected>(rankDeficientCase, 'expected.json');
    const a = featureMatrix(X);
    const b = featureMatrix(Y);

    for (const [first, second] of [
      [a, b],
      [b, a],
    ]) {
      const { fid, warnings } = await frechetDistance(first, second);
      expect(Number.isFinite(fid)).toBe(true);
      expect(Math.abs(fid - want.fid)).toBeLessThanOrEqual(1e-5);
      // Fewer samples than dims in both sets: allowed, but flagged as biased.
      expect(warnings).toHaveLength(2);
    }
  });
});

describe('FID properties', () => {
  it('is 0 for any set with itself, full rank or not', async () => {
    for (const [rows, cols, scale] of [
      [30, 8, 1],
      [5, 12, 1],
      [40, 6, 1e4],
      [3, 3, 1e-4],
    ]) {
      const x = normalFeatures(rows, cols, rows * cols, scale, 2 * scale);
      const { fid } = await frechetDistance(x, x);
      expect(fid).toBeGreaterThanOrEqual(0);
      expect(fid).toBeLessThanOrEqual(1e-10 * scale * scale * cols);
    }
  });

  it('is symmetric and non-negative', async () => {
    for (const [rowsA, rowsB, cols, seed] of [
      [50, 60, 7, 1],
      [6, 9, 10, 2],
      [20, 4, 5, 3],
    ]) {
      const a = normalFeatures(rowsA, cols, seed);
      const b = normalFeatures(rowsB, cols, seed + 100, 1.5, 0.2);
      const ab = (await frechetDistance(a, b)).fid;
      const ba = (await frechetDistance(b, a)).fid;
      expect(ab).toBeGreaterThan(0);
      expect(Math.abs(ab - ba)).toBeLessThanOrEqual(1e-9 * ab);
    }
  });

  it('is |dmu|^2 + sum (sqrt a_i - sqrt b_i)^2 for commuting covariances', async () => {
    const n = 6;
    const a = [4, 1, 0, 9, 0.25, 0];
    const b = [1, 1, 2, 0, 0.25, 0];
    const meanA = [1, 0, 0, 0, 0, 3];
    const meanB = [0, 0, 2, 0, 0, 3];
    // Both covariances share the eigenvectors of a Householder reflection Q = I - 2 u u^T / u.u.
    const u = [1, -2, 0.5, 3, 1, -1];
    const uu = u.reduce((s, v) => s + v * v, 0);
    const q = (i: number, j: number) => (i === j ? 1 : 0) - (2 * u[i] * u[j]) / uu;
    const rotated = (diagonal: number[]) => {
      const s = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          for (let k = 0; k < n; k++) s[i * n + j] += q(i, k) * diagonal[k] * q(j, k);
        }
      }
      return s;
    };
    const stats = (mean: number[], covariance: Float64Array): GaussianStatistics => ({
      count: 100,
      dims: n,
      mean: Float64Array.from(mean),
      covariance,
    });
    let want = 0;
    for (let i = 0; i < n; i++) want += (meanA[i] - meanB[i]) ** 2;
    for (let i = 0; i < n; i++) want += (Math.sqrt(a[i]) - Math.sqrt(b[i])) ** 2;

    const diagonal = (values: number[]) => {
      const s = new Float64Array(n * n);
      values.forEach((v, i) => (s[i * n + i] = v));
      return s;
    };
    for (const [sa, sb] of [
      [diagonal(a), diagonal(b)],
      [rotated(a), rotated(b)],
    ]) {
      const { fid } = await frechetDistanceFromStatistics(stats(meanA, sa), stats(meanB, sb));
      expect(Math.abs(fid - want)).toBeLessThanOrEqual(1e-7);
    }
  });

  it('gives the same value on worker threads as on the calling thread', async () => {
    const a = normalFeatures(64, 21, 11);
    const b = normalFeatures(70, 21, 12, 0.7, 0.1);
    const single = (await frechetDistance(a, b, { threads: 1 })).fid;
    const threaded = (await frechetDistance(a, b, { threads: 2 })).fid;
    expect(Math.abs(single - threaded)).toBeLessThanOrEqual(1e-12 * single);
  });

  it('warns only when a set has no more samples than dims', async () => {
    const { warnings } = await frechetDistance(normalFeatures(30, 4, 1), normalFeatures(4, 4, 2));
    expect(warnings).toHaveLength(1);
  });
});
