/** Seeded test matrices for the metrics, so every property test sees the same numbers. */
import type { FeatureMatrix } from '../../src/metrics/feature-matrix.js';
import { seededUniform } from '../../src/metrics/random-subsets.js';

/** rows x cols standard normals (Box-Muller), times `scale`, plus `offset`. */
export function normalFeatures(
  rows: number,
  cols: number,
  seed: number,
  scale = 1,
  offset = 0,
): FeatureMatrix {
  const uniform = seededUniform(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    data[i] = offset + scale * radius * Math.cos(2 * Math.PI * uniform());
  }
  return { rows, cols, data };
}

/** `x` with `f` applied to every value of column j. */
export function mapColumns(
  x: FeatureMatrix,
  f: (value: number, j: number) => number,
): FeatureMatrix {
  return { ...x, data: x.data.map((v, i) => f(v, i % x.cols)) };
}

/** A PSD matrix of rank `rank`: G G^T with G n x rank normal. */
export function lowRankPsd(n: number, rank: number, seed: number): Float64Array {
  const g = normalFeatures(n, rank, seed).data;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < rank; k++) sum += g[i * rank + k] * g[j * rank + k];
      a[i * n + j] = sum;
    }
  }
  return a;
}
