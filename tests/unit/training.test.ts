import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, useBackendForTests } from '../../src/gan/engine.js';
import { allVariables, type Network } from '../../src/gan/models/network.js';
import { Random } from '../../src/gan/random.js';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { GanTrainer, emaDecayAt } from '../../src/gan/training.js';

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

function snapshot(network: Network | null): Record<string, Float32Array> {
  if (!network) return {};
  return Object.fromEntries(
    allVariables(network).map(({ name, variable }) => [
      name,
      Float32Array.from(variable.dataSync() as Float32Array),
    ]),
  );
}

/** Names of the trainable variables whose values differ from `before`. */
function changed(network: Network, before: Record<string, Float32Array>): string[] {
  const after = snapshot(network);
  return network.trainableVariables
    .map(({ name }) => name)
    .filter((name) => !after[name].every((v, i) => v === before[name][i]));
}

function trainableNames(network: Network): string[] {
  return network.trainableVariables.map(({ name }) => name);
}

const open: GanTrainer[] = [];
function trainer(config: TrainingConfig): GanTrainer {
  const created = GanTrainer.create(config, mnistShape, { width: 8 });
  open.push(created);
  return created;
}

const wasserstein = (model: string) => model === 'wgan' || model === 'wgan-gp';

beforeAll(async () => {
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
    expect(snapshot(fromConfig.discriminator)['d_conv1/kernel']).toHaveLength(5 * 5 * 1 * 4);
    expect(overridden.width).toBe(2);
  });
});

// Convolutions run on wasm with the project's gradient kernels; the pure-JS cpu backend is far
// too slow for them, so it trains only the MLP GAN.
const stepCases = [
  ['gan', 'wasm'],
  ['gan', 'cpu'],
  ['dcgan', 'wasm'],
  ['wgan', 'wasm'],
  ['wgan-gp', 'wasm'],
] as const;

describe.each(stepCases)('%s training step on %s', (model, backend) => {
  beforeAll(async () => {
    await useBackendForTests(backend);
  });

  it('returns finite losses and leaks no tensors', () => {
    const gan = trainer(tinyConfig(model));
    const real = fakeRealBatch(1);
    const before = tf.memory().numTensors;

    for (let i = 0; i < 2; i++) {
      const result = gan.trainStep(real);
      for (const value of Object.values(result)) expect(Number.isFinite(value)).toBe(true);
      if (!wasserstein(model)) {
        expect(result.dLoss).toBeGreaterThan(0);
        expect(result.gLoss).toBeGreaterThan(0);
        for (const p of [result.dReal, result.dFake]) expect(p > 0 && p < 1).toBe(true);
      }
      expect('gradientPenalty' in result).toBe(model === 'wgan-gp');
      expect(tf.memory().numTensors).toBe(before);
    }
    expect(gan.step).toBe(2);
    real.dispose();
  });

  it('discriminatorStep changes D and leaves G, its average and their statistics as they were', () => {
    const gan = trainer(tinyConfig(model));
    const real = fakeRealBatch(2);
    const g = snapshot(gan.generator);
    const ema = snapshot(gan.emaGenerator);
    const d = snapshot(gan.discriminator);

    gan.discriminatorStep(real);

    expect(snapshot(gan.generator)).toEqual(g);
    expect(snapshot(gan.emaGenerator)).toEqual(ema);
    // The critic's output bias cancels out of mean D(G(z)) - mean D(x): its gradient is 0.
    const moving = trainableNames(gan.discriminator).filter(
      (name) => !(wasserstein(model) && name === 'd_logit/bias'),
    );
    expect(changed(gan.discriminator, d)).toEqual(expect.arrayContaining(moving));
    expect(gan.step).toBe(0);
    real.dispose();
  });

  it('generatorStep changes G and its average and leaves every D variable as it was', () => {
    const gan = trainer(tinyConfig(model));
    const g = snapshot(gan.generator);
    const ema = snapshot(gan.emaGenerator);
    const d = snapshot(gan.discriminator);

    const { gLoss } = gan.generatorStep();

    expect(Number.isFinite(gLoss)).toBe(true);
    expect(snapshot(gan.discriminator)).toEqual(d);
    expect(changed(gan.generator, g)).toEqual(trainableNames(gan.generator));
    const average = gan.emaGenerator as Network;
    expect(changed(average, ema)).toEqual(trainableNames(average));
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

describe('objectives', () => {
  it('runs nCritic critic updates per generator update, one per real batch', () => {
    const gan = trainer(tinyConfig('wgan-gp'));
    expect(gan.batchesPerStep).toBe(5);
    const batches = [1, 2, 3, 4, 5].map(fakeRealBatch);

    gan.trainStep(batches);

    expect(gan.discriminatorOptimizer.iterations).toBe(5);
    expect(gan.generatorOptimizer.iterations).toBe(1);
    expect(() => gan.trainStep(batches.slice(1))).toThrow(RangeError);
    tf.dispose(batches);
  });

  it('wgan clips every critic weight to [-c, c] after each update and trains with RMSProp', () => {
    const gan = trainer({ ...tinyConfig('wgan'), clipValue: 0.005 });
    const real = fakeRealBatch(4);

    gan.discriminatorStep(real);

    for (const { name, variable } of gan.discriminator.trainableVariables) {
      const values = variable.dataSync();
      expect(Math.max(...values.map(Math.abs)), name).toBeLessThanOrEqual(0.005);
    }
    expect(gan.discriminatorOptimizer.getState().kind).toBe('rmsprop');
    expect(gan.objective).toMatchObject({ nCritic: 5, clipValue: 0.005, gradientPenalty: null });
    real.dispose();
  });

  it('samples from G itself when emaDecay is 0', () => {
    const gan = trainer({ ...tinyConfig('dcgan'), emaDecay: 0 });
    expect(gan.emaGenerator).toBeNull();
    expect(gan.samplingGenerator).toBe(gan.generator);
  });

  it('averages G with a decay that warms up to the configured one', () => {
    expect(emaDecayAt(0.999, 1)).toBeCloseTo(2 / 11, 12);
    expect(emaDecayAt(0.999, 100_000)).toBe(0.999);
  });
});

it('moves the DCGAN generator batch-norm statistics in its own step', () => {
  const gan = trainer(tinyConfig('dcgan'));
  const before = snapshot(gan.generator)['g_bn1/moving_mean'];
  gan.generatorStep();
  expect(snapshot(gan.generator)['g_bn1/moving_mean']).not.toEqual(before);
});

describe.each(['progan', 'stylegan', 'stylegan2'] as const)('%s training step on wasm', (model) => {
  // These networks grow from 4x4 by doubling: 28x28 data is padded to 32x32 by the worker.
  const paddedShape = { height: 32, width: 32, channels: 1 };
  const config = (): TrainingConfig => ({
    ...tinyConfig(model),
    batchSize: 2,
    ...(model === 'progan' ? { stableSteps: 1, fadeSteps: 2 } : {}),
  });
  const styleTrainer = () => {
    const created = GanTrainer.create(config(), paddedShape, { width: 2 });
    open.push(created);
    return created;
  };
  const realBatch = (seed: number) => {
    const rng = new Random(seed);
    const data = Float32Array.from({ length: 2 * 32 * 32 }, () => rng.next() * 2 - 1);
    return tf.tensor4d(data, [2, 32, 32, 1]);
  };

  beforeAll(async () => {
    await useBackendForTests('wasm');
  });

  it('returns finite losses, leaks no tensors and samples at the full size', () => {
    const gan = styleTrainer();
    const real = realBatch(1);
    const before = tf.memory().numTensors;

    for (let i = 0; i < 2; i++) {
      const result = gan.trainStep(real);
      for (const value of Object.values(result)) expect(Number.isFinite(value)).toBe(true);
      expect(result.dLoss).toBeGreaterThan(0);
      // R1 runs at every D update for stylegan, at every 16th (the first included) for stylegan2.
      const r1 = model === 'stylegan' || (model === 'stylegan2' && i === 0);
      expect('r1Penalty' in result).toBe(r1);
      expect(tf.memory().numTensors).toBe(before);
    }
    const samples = gan.sampleFixed();
    expect(samples.shape).toEqual([4, 32, 32, 1]);
    tf.dispose([samples, real]);
  });

  it('discriminatorStep changes only D, generatorStep only G and its average', () => {
    const gan = styleTrainer();
    const real = realBatch(2);
    const g = snapshot(gan.generator);
    const ema = snapshot(gan.emaGenerator);
    const d = snapshot(gan.discriminator);

    gan.discriminatorStep(real);

    expect(snapshot(gan.generator)).toEqual(g);
    expect(snapshot(gan.emaGenerator)).toEqual(ema);
    expect(changed(gan.discriminator, d).length).toBeGreaterThan(0);

    const dAfter = snapshot(gan.discriminator);
    gan.generatorStep();

    expect(snapshot(gan.discriminator)).toEqual(dAfter);
    expect(changed(gan.generator, g).length).toBeGreaterThan(0);
    expect(changed(gan.emaGenerator as Network, ema).length).toBeGreaterThan(0);
    real.dispose();
  });

  it.runIf(model === 'progan')('follows the progressive schedule in both networks', () => {
    const gan = styleTrainer();
    const real = realBatch(3);
    const phases = [0, 1, 2].map(() => {
      gan.trainStep(real);
      return gan.phase;
    });

    expect(phases).toEqual([
      { resolution: 4, alpha: 1 },
      { resolution: 8, alpha: 0 },
      { resolution: 8, alpha: 0.5 },
    ]);
    const alpha = gan.discriminator.stateVariables.find((v) => v.name === 'phase/alpha');
    expect(alpha?.variable.dataSync()[0]).toBe(0.5);
    real.dispose();
  });
});
