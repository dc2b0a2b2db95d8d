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
