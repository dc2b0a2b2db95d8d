import { describe, expect, it } from 'vitest';
import { kernelInceptionDistance } from '../../src/metrics/kernel-inception-distance.js';
import { mapColumns, normalFeatures } from '../helpers/random-features.js';

describe('Kernel Inception Distance', () => {
  const a = normalFeatures(120, 6, 1);
  const sameDistribution = normalFeatures(120, 6, 2);
  const shifted = mapColumns(normalFeatures(120, 6, 3), (v) => v + 0.5);

  it('is near 0 for two samples of one distribution, clearly above for a shifted one', async () => {
    const options = { subsets: 10, subsetSize: 60, seed: 4 };
    const same = await kernelInceptionDistance(a, sameDistribution, options);
    const apart = await kernelInceptionDistance(a, shifted, options);
    expect(apart.mean).toBeGreaterThan(0);
    expect(Math.abs(same.mean)).toBeLessThan(0.1 * apart.mean);
    expect(same.subsets).toHaveLength(10);
  });

  it('is the unbiased MMD^2 with the cubic kernel when the subset is the whole set', async () => {
    const x = normalFeatures(9, 4, 5);
    const y = normalFeatures(9, 4, 6, 2, 1);
    const k = (p: Float64Array, i: number, q: Float64Array, j: number) => {
      let dot = 0;
      for (let c = 0; c < 4; c++) dot += p[i * 4 + c] * q[j * 4 + c];
      return (dot / 4 + 1) ** 3;
    };
    let want = 0;
    for (let i = 0; i < 9; i++) {
      for (let j = 0; j < 9; j++) {
        if (i !== j) want += (k(x.data, i, x.data, j) + k(y.data, i, y.data, j)) / (9 * 8);
        want -= (2 * k(x.data, i, y.data, j)) / 81;
      }
    }
    const got = await kernelInceptionDistance(x, y, { subsets: 1, subsetSize: 9 });
    expect(Math.abs(got.mean - want)).toBeLessThanOrEqual(1e-12 * Math.abs(want));
    expect(got.std).toBe(0);
  });

  it('repeats itself for one seed, on one thread or two', async () => {
    const options = { subsets: 3, subsetSize: 50, seed: 9 };
    const one = await kernelInceptionDistance(a, shifted, { ...options, threads: 1 });
    const two = await kernelInceptionDistance(a, shifted, { ...options, threads: 2 });
    two.subsets.forEach((v, i) => expect(Math.abs(v - one.subsets[i])).toBeLessThan(1e-12));
  });

  it('rejects a subset larger than a set', async () => {
    await expect(kernelInceptionDistance(a, shifted, { subsetSize: 121 })).rejects.toMatchObject({
      code: 'GANFORGE_ERR_METRIC_INPUT',
    });
  });
});
