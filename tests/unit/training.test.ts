import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/gan/engine.js';
import { Random } from '../../src/gan/random.js';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { GanTrainer } from '../../src/gan/training.js';

const mnistShape = { height: 28, width: 28, channels: 1 };
const batchSize = 8;

function tinyConfig(model: TrainingConfig['model'], seed = 11): TrainingConfig {
  return { ...trainingDefaults, model, dataset: 'mnist', seed, batchSize, sampleCount: 4 };
}

/** A deterministic stand-in for a data batch: uniform pixels in [-1, 1]. */
function fakeRealBatch(seed: number): tf.Tensor4D {
  const rng = new Random(seed);
  const data = Float32Array.from({ length: batchSize * 28 * 28 }, () => rng.next() * 2 - 1);
  return tf.tensor4d(data, [batchSize, 28, 28, 1]);
}

function snapshot(model: tf.LayersModel): Record<string, Float32Array> {
  return Object.fromEntries(
    model.weights.map((w) => [
      w.originalName,
      Float32Array.from(w.read().dataSync() as Float32Array),
    ]),
  );
}

function trainableNames(model: tf.LayersModel): string[] {
  return model.trainableWeights.map((w) => w.originalName);
}

const open: GanTrainer[] = [];
function trainer(config: TrainingConfig): GanTrainer {
  const created = GanTrainer.create(config, mnistShape, { width: 8 });
  open.push(created);
  return created;
}

beforeAll(async () => {
  // Convolutions run on wasm with the project's gradient kernels, never on the cpu backend.
  await initEngine('wasm');
});

afterEach(() => {
  open.splice(0).forEach((t) => t.dispose());
});

describe('GanTrainer width', () => {
  it('takes the width from the run config, and an explicit option over it', () => {
    const fromConfig = GanTrainer.create({ ...tinyConfig('dcgan'), width: 4 }, mnistShape);
    const overridden = GanTrainer.create({ ...tinyConfig('dcgan'), width: 4 }, mnistShape, {
      width: 2,
    });
    open.push(fromConfig, overridden);

    expect(fromConfig.width).toBe(4);
    expect(fromConfig.discriminator.getLayer('d_conv1').getWeights()[0].shape).toEqual([
      5, 5, 1, 4,
    ]);
    expect(overridden.width).toBe(2);
  });
});

describe.each(['gan', 'dcgan'] as const)('%s training step', (model) => {
  it('returns finite losses and probabilities and leaks no tensors', () => {
    const gan = trainer(tinyConfig(model));
    const real = fakeRealBatch(1);
    const before = tf.memory().numTensors;

    for (let i = 0; i < 2; i++) {
      const result = gan.trainStep(real);
      expect(Number.isFinite(result.dLoss) && result.dLoss > 0).toBe(true);
      expect(Number.isFinite(result.gLoss) && result.gLoss > 0).toBe(true);
      for (const p of [result.dReal, result.dFake]) expect(p > 0 && p < 1).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(gan.step).toBe(2);
    real.dispose();
  });

  it('discriminatorStep changes D and leaves every G weight, batch-norm statistics included, as it was', () => {
    const gan = trainer(tinyConfig(model));
    const real = fakeRealBatch(2);
    const g = snapshot(gan.generator);
    const d = snapshot(gan.discriminator);

    gan.discriminatorStep(real);

    expect(snapshot(gan.generator)).toEqual(g);
    const after = snapshot(gan.discriminator);
    for (const name of trainableNames(gan.discriminator)) {
      expect(after[name], name).not.toEqual(d[name]);
    }
    expect(gan.step).toBe(0);
    real.dispose();
  });

  it('generatorStep changes G and leaves every D weight as it was', () => {
    const gan = trainer(tinyConfig(model));
    const g = snapshot(gan.generator);
    const d = snapshot(gan.discriminator);

    const { gLoss } = gan.generatorStep();

    expect(Number.isFinite(gLoss)).toBe(true);
    expect(snapshot(gan.discriminator)).toEqual(d);
    const after = snapshot(gan.generator);
    for (const name of trainableNames(gan.generator)) {
      expect(after[name], name).not.toEqual(g[name]);
    }
    expect(gan.step).toBe(1);
  });

  it('repeats a run exactly from the same seed and samples the same fixed noise', () => {
    const [a, b] = [trainer(tinyConfig(model)), trainer(tinyConfig(model))];
    const real = fakeRealBatch(3);
    expect(b.trainStep(real)).toEqual(a.trainStep(real));
    expect(b.trainStep(real)).toEqual(a.trainStep(real));
    const [sa, sb] = [a.sampleFixed(), b.sampleFixed()];
    expect(sa.shape).toEqual([4, 28, 28, 1]);
    expect(sb.dataSync()).toEqual(sa.dataSync());

    // Sampling runs in inference mode: it moves no batch-norm statistics, so it repeats.
    const again = a.sampleFixed();
    expect(again.dataSync()).toEqual(sa.dataSync());
    tf.dispose([sa, sb, again, real]);
  });
});

it('moves the DCGAN generator batch-norm statistics in its own step', () => {
  const gan = trainer(tinyConfig('dcgan'));
  const before = snapshot(gan.generator)['g_bn1/moving_mean'];
  gan.generatorStep();
  expect(snapshot(gan.generator)['g_bn1/moving_mean']).not.toEqual(before);
});
