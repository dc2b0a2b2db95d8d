import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import {
  discriminatorLoss,
  generatorLoss,
  sigmoidCrossEntropyFromLogits,
} from '../../src/gan/losses.js';
import { readCase } from '../helpers/cases.js';

const caseName = '10-gan-bce-from-logits';

interface LogitBatch {
  real_logits: number[];
  fake_logits: number[];
}
interface ExpectedBatch {
  d_loss: number;
  g_loss_non_saturating: number;
  dg_dfake_logits: number[];
  per_sample_bce_real_label1: number[];
  per_sample_bce_fake_label0: number[];
}

const input = readCase<Record<string, LogitBatch>>(caseName, 'input.json');
const expected = readCase<Record<string, ExpectedBatch>>(caseName, 'expected.json');

/** The case's tolerance: |got - expected| <= 1e-6 + 1e-6 * |expected|, and finite. */
function expectClose(got: ArrayLike<number>, want: number[]): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    expect(Number.isFinite(got[i])).toBe(true);
    expect(Math.abs(got[i] - w)).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(w));
  });
}

describe.each(['cpu', 'wasm'])('GAN losses from logits on %s (case 10)', (backend) => {
  it.each(['batch_a', 'batch_confidently_wrong'])('matches the reference for %s', async (name) => {
    expect(await tf.setBackend(backend)).toBe(true);
    const want = expected[name];
    const real = tf.tensor1d(input[name].real_logits);
    const fake = tf.tensor1d(input[name].fake_logits);
    const before = tf.memory().numTensors;

    const perReal = sigmoidCrossEntropyFromLogits(real, 1);
    const perFake = sigmoidCrossEntropyFromLogits(fake, 0);
    const dLoss = discriminatorLoss(real, fake);
    const gLoss = generatorLoss(fake);
    const grad = tf.grad((f: tf.Tensor) => generatorLoss(f))(fake);

    expectClose(perReal.dataSync(), want.per_sample_bce_real_label1);
    expectClose(perFake.dataSync(), want.per_sample_bce_fake_label0);
    expectClose(dLoss.dataSync(), [want.d_loss]);
    expectClose(gLoss.dataSync(), [want.g_loss_non_saturating]);
    expectClose(grad.dataSync(), want.dg_dfake_logits);
    tf.dispose([perReal, perFake, dLoss, gLoss, grad]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([real, fake]);
  });

  it('keeps the generator gradient alive where a clipped probability would zero it', async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    const fake = tf.tensor1d([-1000, -50, -20]);
    const grad = tf.grad((f: tf.Tensor) => generatorLoss(f))(fake);
    // d/dx mean softplus(-x) = -sigmoid(-x)/n, which tends to -1/n as x -> -Infinity.
    expectClose(grad.dataSync(), [-1 / 3, -1 / 3, -1 / 3]);
    tf.dispose([fake, grad]);
  });
});
