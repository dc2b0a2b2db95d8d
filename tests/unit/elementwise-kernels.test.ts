import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, useBackendForTests } from '../../src/gan/engine.js';
import { dataBuffers, relativeError } from '../helpers/tensor-compare.js';

// The reduction, batch-norm and elementwise kernels of src/gan/kernels against the cpu backend.
beforeAll(async () => {
  await initEngine('wasm');
});

describe('wasm Sum and Mean', () => {
  // Leading axes of float32 (NHWC batch statistics, bias gradients) take the pooling path; the
  // rest (inner or all axes, int32) the stock kernels.
  it.each([
    { shape: [64, 14, 14, 64], axis: [0, 1, 2], keepDims: false },
    { shape: [5, 3, 7, 9], axis: [-4, -3, -2], keepDims: true },
    { shape: [17, 33], axis: 0, keepDims: false },
    { shape: [4, 6, 5], axis: [1, 0], keepDims: true },
    { shape: [4, 6, 5], axis: [1, 2], keepDims: false },
    { shape: [3, 4, 1], axis: [0, 1], keepDims: false },
    { shape: [4, 6, 5], axis: [0, 1, 2], keepDims: false },
    { shape: [4, 6, 5], axis: [0, 1], keepDims: false, dtype: 'int32' },
  ])('match the cpu backend over $shape, axis $axis, keepDims $keepDims', async (c) => {
    const reduced = () =>
      tf.tidy(() => {
        const uniform = tf.randomUniform(c.shape, -2, 3, 'float32', 14);
        const x = c.dtype === 'int32' ? tf.cast(tf.mul(uniform, 10), 'int32') : uniform;
        return [tf.sum(x, c.axis, c.keepDims), tf.mean(x, c.axis, c.keepDims)].map((t) => ({
          shape: t.shape,
          dtype: t.dtype,
          values: t.dataSync() as Float32Array,
        }));
      });
    await useBackendForTests('cpu');
    const expected = reduced();
    await useBackendForTests('wasm');
    const buffersBefore = dataBuffers();
    const actual = reduced();
    expect(dataBuffers()).toBe(buffersBefore);
    actual.forEach((a, i) => {
      expect([a.shape, a.dtype]).toEqual([expected[i].shape, expected[i].dtype]);
      expect(relativeError(a.values, expected[i].values)).toBeLessThan(1e-5);
    });
  });
});

describe('wasm FusedBatchNorm', () => {
  // Per-channel statistics ([C] or [1, 1, 1, C]; offset and scale optional) take the broadcast
  // path, whole-shape statistics the stock kernel. tfjs's tape cannot differentiate a batchNorm
  // without offset or scale on any backend, so the gradient is checked with both.
  it.each([
    { x: [8, 14, 14, 64], stats: [64], offset: true, scale: true },
    { x: [3, 5, 4, 7], stats: [1, 1, 1, 7], offset: false, scale: true },
    { x: [9, 6272], stats: [6272], offset: true, scale: false },
    { x: [4, 3], stats: [4, 3], offset: true, scale: true },
  ])('matches the cpu backend for x $x, statistics $stats', async (c) => {
    const normalized = () =>
      tf.tidy(() => {
        const x = tf.randomUniform(c.x, -3, 5, 'float32', 15);
        const stat = (seed: number, low: number) =>
          tf.randomUniform(c.stats, low, 2, 'float32', seed);
        const [mean, variance] = [stat(16, -1), stat(17, 0.1)];
        const offset = c.offset ? stat(18, -1) : undefined;
        const scale = c.scale ? stat(19, -1) : undefined;
        const norm = (t: tf.Tensor) => tf.batchNorm(t, mean, variance, offset, scale, 1e-3);
        const y = norm(x);
        if (!offset || !scale) return [y.dataSync() as Float32Array];
        const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.square(norm(t))))(x);
        return [y, dx].map((t) => t.dataSync() as Float32Array);
      });
    await useBackendForTests('cpu');
    const expected = normalized();
    await useBackendForTests('wasm');
    const buffersBefore = dataBuffers();
    const actual = normalized();
    expect(dataBuffers()).toBe(buffersBefore);
    actual.forEach((a, i) => expect(relativeError(a, expected[i])).toBeLessThan(1e-5));
  });
});

describe('wasm elementwise kernels on the multi-threaded build', () => {
  // Leading-axes broadcasts are tiled and Square is x * x only with 2 or more threads, so the
  // values come from a child process on 2 threads (the engine is once per process).
  const ops = `(t) => {
    const x = tf.randomUniform([4, 5, 6, 8], -2, 2, 'float32', 21);
    const channel = tf.randomUniform([8], 0.5, 2, 'float32', 22);
    const column = tf.randomUniform([5, 1, 8], -1, 1, 'float32', 23);
    const mean = tf.randomUniform([1, 1, 1, 8], -1, 1, 'float32', 24);
    return [
      tf.add(x, channel), tf.sub(channel, x), tf.mul(column, x), tf.sub(x, mean),
      tf.add(tf.reshape(channel, [8, 1]), tf.reshape(channel, [1, 8])), tf.mul(x, 3),
      tf.square(x), tf.batchNorm(x, mean, tf.reshape(channel, [1, 1, 1, 8]), mean, mean, 1e-3),
      tf.grad((v) => tf.sum(tf.square(tf.mul(v, channel))))(x),
      tf.leakyRelu(x, 0.2),
    ].map((y) => ({ shape: y.shape, values: Array.from(y.dataSync()) }));
  }`;

  it('match the cpu backend', async () => {
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import { initEngine } from './src/gan/engine.ts';
      const engine = await initEngine('wasm', undefined, { wasmThreads: 2 });
      const buffers = tf.backend().numDataIds();
      const results = tf.tidy(() => (${ops})());
      const leaked = tf.backend().numDataIds() - buffers;
      console.log(JSON.stringify({ detail: engine.detail, leaked, results }));
    `;
    const output = execFileSync('npx', ['tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const threaded = JSON.parse(output.trim().split('\n').pop() as string) as {
      detail: string;
      leaked: number;
      results: { shape: number[]; values: number[] }[];
    };
    await useBackendForTests('cpu');
    const run = new Function('tf', `return (${ops})();`) as (
      t: typeof tf,
    ) => { shape: number[]; values: number[] }[];
    const expected = tf.tidy(() => run(tf));

    expect(threaded.detail).toContain('2 threads');
    expect(threaded.leaked).toBe(0);
    expect(threaded.results.map((r) => r.shape)).toEqual(expected.map((r) => r.shape));
    threaded.results.forEach((r, i) => {
      const error = relativeError(
        Float32Array.from(r.values),
        Float32Array.from(expected[i].values),
      );
      expect(error).toBeLessThan(1e-5);
    });
  });
});
