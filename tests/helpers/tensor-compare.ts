import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/** max |a - b| / max |b|: the error measure of the gradient checks. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  expect(scale).toBeGreaterThan(0);
  return diff / scale;
}

/** Backend-side buffers, which count a kernel's intermediates (numTensors does not). */
export function dataBuffers(): number {
  return tf.backend().numDataIds();
}
