import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gatherImages } from '../../src/data/batches.js';
import { datasets, getDataset } from '../../src/data/datasets.js';
import type { ImageDataset } from '../../src/data/mnist.js';

const fashionMnistDir = '/usr/share/datasets/fashion-mnist';
const fashionMnistInstalled = existsSync(fashionMnistDir);

describe('Fashion-MNIST', () => {
  it('is a built-in dataset of 28x28 grayscale images', () => {
    expect(getDataset('fashion-mnist')).toMatchObject({
      shape: { height: 28, width: 28, channels: 1 },
      splitSizes: { train: 60000, test: 10000 },
    });
    expect(Object.keys(datasets)).toEqual(['mnist', 'fashion-mnist']);
  });

  // CI installs the Debian package (.ci/run); elsewhere the test's name says why it did not run.
  it.skipIf(!fashionMnistInstalled)(
    fashionMnistInstalled
      ? `loads both splits from ${fashionMnistDir}`
      : `loads both splits (skipped: no ${fashionMnistDir}; apt-get install -y dataset-fashion-mnist)`,
    async () => {
      const entry = getDataset('fashion-mnist');
      const [train, test] = await Promise.all([entry.load('train'), entry.load('test')]);
      for (const [set, count] of [
        [train, 60000],
        [test, 10000],
      ] as const) {
        expect(set).toMatchObject({ count, height: 28, width: 28, channels: 1 });
        expect(set.images.length).toBe(count * 28 * 28);
        expect(Math.max(...set.labels)).toBe(9);
        let min = Infinity;
        let max = -Infinity;
        for (const v of set.images) {
          if (v < min) min = v;
          if (v > max) max = v;
        }
        expect([min, max]).toEqual([-1, 1]);
      }
      // The first image of each split is an ankle boot, class 9 (Xiao et al. 2017).
      expect(train.labels[0]).toBe(9);
      expect(test.labels[0]).toBe(9);
    },
  );
});

describe('gatherImages', () => {
  const dataset: ImageDataset = {
    images: Float32Array.from({ length: 3 * 2 * 2 }, (_, i) => Math.fround(i / 12)),
    labels: new Uint8Array(3),
    count: 3,
    height: 2,
    width: 2,
    channels: 1,
  };

  it('copies the chosen images in order', () => {
    expect(Array.from(gatherImages(dataset, Uint32Array.from([2, 0])))).toEqual(
      [8, 9, 10, 11, 0, 1, 2, 3].map((v) => Math.fround(v / 12)),
    );
  });

  it('centres each image on a larger canvas of background', () => {
    const padded = gatherImages(dataset, Uint32Array.from([1]), 4);
    const x = (v: number) => Math.fround(v / 12);
    expect(Array.from(padded)).toEqual(
      [
        [-1, -1, -1, -1],
        [-1, x(4), x(5), -1],
        [-1, x(6), x(7), -1],
        [-1, -1, -1, -1],
      ].flat(),
    );
    expect(() => gatherImages(dataset, Uint32Array.from([1]), 1)).toThrow(RangeError);
  });
});
