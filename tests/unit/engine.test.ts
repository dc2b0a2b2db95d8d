import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { GanforgeError } from '../../src/errors.js';
import { initEngine } from '../../src/gan/engine.js';
import { wasmKernelsRegistered } from '../../src/gan/kernels/index.js';

// Each test file runs in its own process (vitest pool 'forks'), so the first initEngine here is
// the process's first. The order of the tests below matters for that reason.
describe('initEngine', () => {
  it('throws the coded error when a forced backend is not installed', async () => {
    const attempt = initEngine('tensorflow-gpu');
    await expect(attempt).rejects.toBeInstanceOf(GanforgeError);
    await expect(attempt).rejects.toMatchObject({ code: 'GANFORGE_ERR_BACKEND_UNAVAILABLE' });
  });

  it('resolves auto to wasm on a machine without native TensorFlow, with our kernels', async () => {
    const logged: string[] = [];
    const engine = await initEngine('auto', (msg, fields) =>
      logged.push(`${msg} ${JSON.stringify(fields)}`),
    );
    expect(engine.backend).toBe('wasm');
    expect(engine.tf.getBackend()).toBe('wasm');
    expect(wasmKernelsRegistered()).toBe(true);
    expect(logged.some((line) => line.includes('tensorflow-gpu'))).toBe(true);
  });

  it('returns the first engine on later calls', async () => {
    const first = await initEngine('auto');
    const second = await initEngine('cpu');
    expect(second).toBe(first);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('runs a convolution gradient on wasm (no stock Conv2DBackpropFilter there)', async () => {
    expect((await initEngine('wasm')).backend).toBe('wasm');
    const grad = tf.tidy(() => {
      const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
      const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
      return tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 1, 'valid')))(w);
    });
    // Each tap sees the 2x2 valid output positions, each reading a 1.
    expect(Array.from(await grad.data())).toEqual(new Array(9).fill(4));
    grad.dispose();
  });
});

describe('initEngine with wasm threads', () => {
  // A child process: the engine is once per process and this file's is already single-threaded.
  it('loads the multi-threaded build and computes the same gradient', () => {
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import { initEngine } from './src/gan/engine.ts';
      const engine = await initEngine('wasm', undefined, { wasmThreads: 2 });
      const x = tf.randomUniform([4, 9, 9, 8], -1, 1, 'float32', 1);
      const w = tf.randomUniform([5, 5, 8, 16], -1, 1, 'float32', 2);
      const [dx, dw] = tf.grads((a, b) => tf.sum(tf.square(tf.conv2d(a, b, 2, 'same'))))([x, w]);
      console.log(JSON.stringify({ detail: engine.detail, dx: dx.sum().arraySync(), dw: dw.sum().arraySync() }));
    `;
    const run = (threads: string) =>
      JSON.parse(
        execFileSync(
          'npx',
          ['tsx', '--input-type=module', '-e', script.replace('2 }', `${threads} }`)],
          {
            encoding: 'utf8',
            timeout: 60_000,
          },
        )
          .trim()
          .split('\n')
          .pop() as string,
      ) as { detail: string; dx: number; dw: number };
    const threaded = run('2');
    const single = run('1');
    expect(threaded.detail).toContain('2 threads');
    expect(single.detail).toContain('1 thread');
    expect(Math.abs(threaded.dx - single.dx)).toBeLessThan(1e-3 * Math.abs(single.dx));
    expect(Math.abs(threaded.dw - single.dw)).toBeLessThan(1e-3 * Math.abs(single.dw));
  });
});
