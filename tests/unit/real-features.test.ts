import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist.js';
import { initEngine } from '../../src/gan/engine.js';
import type { FeatureExtractor } from '../../src/metrics/extractors/feature-extractor.js';
import {
  realDataDir,
  realFeatures,
  realStatistics,
} from '../../src/metrics/extractors/real-features.js';
import { gaussianStatistics } from '../../src/metrics/frechet-distance.js';

/**
 * A stand-in extractor with a known answer: per image its mean pixel and the fraction of pixels
 * above 0 as features, and [p, 1 - p] with p that fraction as probabilities. It counts the
 * images it is given, so a test can tell a computation from a cache read.
 */
function pixelStatisticsExtractor(sha256: string) {
  const calls = { images: 0 };
  const extractor: FeatureExtractor = {
    name: 'pixel-statistics',
    sha256,
    resize: 'none',
    async extract(images) {
      calls.images += images.shape[0];
      const [n] = images.shape;
      const flat = images.reshape([n, -1]);
      const values = (await flat.array()) as number[][];
      flat.dispose();
      const features = new Float64Array(n * 2);
      const probabilities = new Float64Array(n * 2);
      values.forEach((row, i) => {
        const bright = row.filter((v) => v > 0).length / row.length;
        features[2 * i] = row.reduce((s, v) => s + v, 0) / row.length;
        features[2 * i + 1] = bright;
        probabilities.set([bright, 1 - bright], 2 * i);
      });
      return {
        features: { rows: n, cols: 2, data: features },
        probabilities: { rows: n, cols: 2, data: probabilities },
      };
    },
    dispose() {},
  };
  return { extractor, calls };
}

let cacheDir: string;

beforeAll(async () => {
  await initEngine('wasm');
  cacheDir = await mkdtemp(join(tmpdir(), 'ganforge-real-'));
});

afterAll(() => rm(cacheDir, { recursive: true, force: true }));

describe('real-data features and statistics cache', () => {
  it('extracts the first count images of the split once, then reads them back', async () => {
    const { extractor, calls } = pixelStatisticsExtractor('a'.repeat(64));
    const count = 1500;
    const first = await realFeatures(extractor, 'mnist', 'test', count, { cacheDir });
    expect(calls.images).toBe(count);

    const test = await loadMnist('test');
    const pixels = test.images.subarray(0, 28 * 28);
    expect(first.features.rows).toBe(count);
    expect(first.features.data[0]).toBeCloseTo(
      pixels.reduce((s, v) => s + v, 0) / pixels.length,
      6,
    );

    const second = await realFeatures(extractor, 'mnist', 'test', count, { cacheDir });
    expect(calls.images).toBe(count);
    expect(second.features).toEqual(first.features);
    expect(second.probabilities).toEqual(first.probabilities);

    const files = await readdir(realDataDir(extractor, 'mnist', 'test', count, cacheDir));
    expect(files.sort()).toEqual(['features.npy', 'probabilities.npy']);
  });

  it('keys the cache by weights hash, split and count', async () => {
    const other = pixelStatisticsExtractor('b'.repeat(64));
    await realFeatures(other.extractor, 'mnist', 'test', 1500, { cacheDir });
    await realFeatures(other.extractor, 'mnist', 'test', 1000, { cacheDir });
    await realFeatures(other.extractor, 'mnist', 'train', 1000, { cacheDir });
    expect(other.calls.images).toBe(3500);
  });

  it('caches FID statistics equal to those of the features, computed once', async () => {
    const { extractor, calls } = pixelStatisticsExtractor('c'.repeat(64));
    const statistics = await realStatistics(extractor, 'mnist', 'train', 2000, { cacheDir });
    const { features } = await realFeatures(extractor, 'mnist', 'train', 2000, { cacheDir });
    expect(statistics).toEqual(await gaussianStatistics(features));

    const again = await realStatistics(extractor, 'mnist', 'train', 2000, { cacheDir });
    expect(again).toEqual(statistics);
    expect(calls.images).toBe(2000);
  });

  it('extracts and writes again a cached file damaged outside ganforge', async () => {
    const { extractor, calls } = pixelStatisticsExtractor('d'.repeat(64));
    const count = 300;
    const dir = realDataDir(extractor, 'mnist', 'test', count, cacheDir);
    const first = await realFeatures(extractor, 'mnist', 'test', count, { cacheDir });
    const statistics = await realStatistics(extractor, 'mnist', 'test', count, { cacheDir });
    const featureBytes = await readFile(join(dir, 'features.npy'));
    await writeFile(join(dir, 'features.npy'), featureBytes.subarray(0, featureBytes.length - 8));
    await writeFile(join(dir, 'statistics.npy'), 'not an npy file');
    const logged: string[] = [];
    const context = { cacheDir, log: (msg: string) => logged.push(msg) };

    const again = await realFeatures(extractor, 'mnist', 'test', count, context);
    const againStatistics = await realStatistics(extractor, 'mnist', 'test', count, context);

    expect(again).toEqual(first);
    expect(againStatistics).toEqual(statistics);
    expect(calls.images).toBe(2 * count);
    expect(await readFile(join(dir, 'features.npy'))).toEqual(featureBytes);
    expect(logged).toEqual([
      'cached real features unusable, extracting them again',
      'real features cached',
      'cached real statistics unusable, computing them again',
    ]);
  });

  it('refuses more real images than the split holds, and unknown datasets', async () => {
    const { extractor } = pixelStatisticsExtractor('d'.repeat(64));
    await expect(
      realFeatures(extractor, 'mnist', 'test', 10001, { cacheDir }),
    ).rejects.toMatchObject({ code: 'GANFORGE_ERR_METRIC_INPUT' });
    await expect(
      realStatistics(extractor, '../mnist', 'test', 100, { cacheDir }),
    ).rejects.toMatchObject({ code: 'GANFORGE_ERR_UNKNOWN_DATASET' });
  });
});
