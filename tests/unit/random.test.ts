import { describe, expect, it } from 'vitest';
import { BatchSampler, gatherImages } from '../../src/data/batches.js';
import type { ImageDataset } from '../../src/data/mnist.js';
import { Random, deriveSeed } from '../../src/gan/random.js';

describe('Random', () => {
  it('repeats a sequence for the same seed and differs for another', () => {
    const a = new Random(42);
    const b = new Random(42);
    const c = new Random(43);
    const seqA = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(seqA);
    expect(seqA.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });

  it('matches the xoshiro128** reference output for state [1, 2, 3, 4]', () => {
    const rng = Random.fromState({ words: [1, 2, 3, 4], spareNormal: null });
    const out = Array.from({ length: 8 }, () => rng.nextUint32());
    expect(out).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849,
    ]);
  });

  it('restores its state exactly, including the spare Box-Muller normal', () => {
    const rng = new Random(7);
    rng.normal(); // leaves a spare normal in the state
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    expect(saved.spareNormal).not.toBeNull();
    const expected = [rng.normal(), rng.normal(), rng.next(), rng.nextInt(10)];
    const restored = Random.fromState(saved);
    expect([restored.normal(), restored.normal(), restored.next(), restored.nextInt(10)]).toEqual(
      expected,
    );
    expect(() => Random.fromState({ words: [0, 0, 0, 0], spareNormal: null })).toThrow(RangeError);
  });

  it('draws standard normals and unbiased integers', () => {
    const z = new Random(1).normals(100000);
    const mean = z.reduce((s, x) => s + x, 0) / z.length;
    const variance = z.reduce((s, x) => s + (x - mean) ** 2, 0) / z.length;
    expect(Math.abs(mean)).toBeLessThan(0.015);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
    expect(z.every(Number.isFinite)).toBe(true);

    const rng = new Random(2);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[rng.nextInt(6)]++;
    for (const n of counts) expect(Math.abs(n - 10000)).toBeLessThan(400);
  });

  it('derives distinct seeds per stream', () => {
    const seeds = ['init', 'data', 'noise'].map((s) => deriveSeed(5, s));
    expect(new Set(seeds).size).toBe(3);
    expect(deriveSeed(5, 'noise')).toBe(seeds[2]);
    expect(deriveSeed(6, 'noise')).not.toBe(seeds[2]);
  });
});

describe('BatchSampler', () => {
  it('hands out every example once per epoch, in a seeded order', () => {
    const sampler = new BatchSampler(10, 3, 9);
    const epoch0 = [sampler.nextIndices(), sampler.nextIndices(), sampler.nextIndices()];
    const seen = epoch0.flatMap((b) => Array.from(b));
    expect(new Set(seen).size).toBe(9);
    expect(sampler.getState()).toMatchObject({ epoch: 0, position: 9 });

    sampler.nextIndices(); // only one example left: a new epoch starts
    expect(sampler.getState()).toMatchObject({ epoch: 1, position: 3 });

    const again = new BatchSampler(10, 3, 9);
    expect(Array.from(again.nextIndices())).toEqual(Array.from(epoch0[0]));
    expect(Array.from(new BatchSampler(10, 3, 10).nextIndices())).not.toEqual(
      Array.from(epoch0[0]),
    );
  });

  it('resumes mid-epoch and across epochs exactly', () => {
    const sampler = new BatchSampler(1000, 64, 3);
    for (let i = 0; i < 20; i++) sampler.nextIndices(); // into the second epoch (15 per epoch)
    const saved = JSON.parse(JSON.stringify(sampler.getState()));
    expect(saved.epoch).toBe(1);
    const next = Array.from({ length: 20 }, () => Array.from(sampler.nextIndices()));
    const resumed = BatchSampler.fromState(saved);
    expect(Array.from({ length: 20 }, () => Array.from(resumed.nextIndices()))).toEqual(next);
    expect(() => new BatchSampler(1000, 32, 3).setState(saved)).toThrow(RangeError);
  });

  it('gathers the chosen images into one array', () => {
    const dataset: ImageDataset = {
      images: Float32Array.from([0, 0.1, 1, 1.1, 2, 2.1]),
      labels: Uint8Array.from([0, 1, 2]),
      count: 3,
      height: 1,
      width: 2,
      channels: 1,
    };
    const batch = gatherImages(dataset, Uint32Array.from([2, 0]));
    expect(Array.from(batch)).toEqual([2, 2.1, 0, 0.1].map(Math.fround));
  });
});
