import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Adam } from '../../src/gan/adam.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  type CheckpointState,
} from '../../src/gan/checkpoint.js';
import { initEngine, useBackendForTests } from '../../src/gan/engine.js';
import { allVariables } from '../../src/gan/models/network.js';
import { Random } from '../../src/gan/random.js';
import { RmsProp } from '../../src/gan/rmsprop.js';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { GanTrainer, type TrainStepResult } from '../../src/gan/training.js';
import { readCase } from '../helpers/cases.js';

const caseName = '13-checkpoint-resume-optimizer-state';

interface QuadraticCase {
  a: number[];
  t: number[];
  w0: number[];
  adam: { learning_rate: number; beta1: number; beta2: number; epsilon: number };
  total_steps: number;
  checkpoint_after_step: number;
}
interface Trajectory {
  w_after_resumed_steps: number[][];
  loss_after_resumed_steps: number[];
}
const input = readCase<QuadraticCase>(caseName, 'input.json');
const expected = readCase<{
  checkpoint: { w: number[]; m: number[]; v: number[]; step: number };
  uninterrupted: { w_after_each_step: number[][]; loss_after_each_step: number[] };
  resume_full_state: Trajectory;
  diagnostic_resume_weights_only: Trajectory;
}>(caseName, 'expected.json');

/** The case's tolerance for float32: relative 1e-4 (with a tiny absolute floor). */
function expectRelClose(got: ArrayLike<number>, want: number[]): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) =>
    expect(Math.abs(got[i] - w)).toBeLessThanOrEqual(1e-4 * Math.abs(w) + 1e-7),
  );
}

/** f(w) = 0.5 * sum_k a_k (w_k - t_k)^2, the case's separable quadratic. */
function quadratic(w: tf.Variable): { loss: () => tf.Scalar } {
  const a = tf.tensor1d(input.a);
  const t = tf.tensor1d(input.t);
  return { loss: () => tf.tidy(() => a.mul(w.sub(t).square()).sum().mul(0.5) as tf.Scalar) };
}

function adamFor(w: tf.Variable): Adam {
  const { learning_rate, beta1, beta2, epsilon } = input.adam;
  return new Adam([w], { learningRate: learning_rate, beta1, beta2, epsilon }, ['w']);
}

/** Runs `steps` optimizer steps and records weights and loss after each. */
function descend(
  w: tf.Variable,
  optimizer: tf.Optimizer,
  steps: number,
): { ws: number[][]; losses: number[] } {
  const { loss } = quadratic(w);
  const ws: number[][] = [];
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    optimizer.minimize(loss, false, [w]);
    ws.push(Array.from(w.dataSync()));
    const value = loss();
    losses.push(value.dataSync()[0]);
    value.dispose();
  }
  return { ws, losses };
}

beforeAll(async () => {
  await initEngine('wasm');
});

describe('Adam resume on the case 13 quadratic', () => {
  const k = input.checkpoint_after_step;
  const rest = input.total_steps - k;

  it('follows the reference trajectory uninterrupted', () => {
    const w = tf.variable(tf.tensor1d(input.w0));
    const run = descend(w, adamFor(w), input.total_steps);
    run.ws.forEach((ws, i) => expectRelClose(ws, expected.uninterrupted.w_after_each_step[i]));
    expectRelClose(run.losses, expected.uninterrupted.loss_after_each_step);
  });

  it('continues bit for bit after restoring moments and the step count', async () => {
    const straightW = tf.variable(tf.tensor1d(input.w0));
    const straight = descend(straightW, adamFor(straightW), input.total_steps);

    const w = tf.variable(tf.tensor1d(input.w0));
    const first = adamFor(w);
    descend(w, first, k);
    const saved = structuredClone({ w: Float32Array.from(w.dataSync()), adam: first.getState() });
    expect(saved.adam.iterations).toBe(expected.checkpoint.step);
    expectRelClose(saved.w, expected.checkpoint.w);
    expectRelClose(saved.adam.slots[0].data, expected.checkpoint.m);
    expectRelClose(saved.adam.slots[1].data, expected.checkpoint.v);
    first.dispose();
    w.dispose();

    // A fresh process: new variable, new optimizer, state written back before the first step.
    const resumedW = tf.variable(tf.tensor1d(saved.w));
    const resumedAdam = adamFor(resumedW);
    resumedAdam.setState(saved.adam);
    const resumed = descend(resumedW, resumedAdam, rest);

    expect(resumed.losses).toEqual(straight.losses.slice(k));
    expect(resumed.ws).toEqual(straight.ws.slice(k));
    const want = expected.resume_full_state;
    resumed.ws.forEach((ws, i) => expectRelClose(ws, want.w_after_resumed_steps[i]));
    expectRelClose(resumed.losses, want.loss_after_resumed_steps);

    // The same through the generic tf.Optimizer getWeights/setWeights contract.
    const viaWeights = adamFor(tf.variable(tf.tensor1d(saved.w)));
    const copy = adamFor(tf.variable(tf.tensor1d(saved.w)));
    copy.setState(saved.adam);
    await viaWeights.setWeights(await copy.getWeights());
    expect(viaWeights.getState()).toEqual(saved.adam);
  });

  it('shows the overshoot a weights-only resume would cause (the case diagnostic)', () => {
    const w = tf.variable(tf.tensor1d(expected.checkpoint.w));
    const run = descend(w, adamFor(w), rest);
    expectRelClose(run.losses, expected.diagnostic_resume_weights_only.loss_after_resumed_steps);
    expect(run.losses[0]).toBeGreaterThan(
      expected.resume_full_state.loss_after_resumed_steps[0] * 1.5,
    );
  });

  it('refuses a state that does not fit its variables', () => {
    const adam = adamFor(tf.variable(tf.zeros([4])));
    const state = adam.getState();
    expect(() =>
      adam.setState({ ...state, slots: [state.slots[0], { ...state.slots[1], shape: [2, 2] }] }),
    ).toThrow(RangeError);
    expect(() => adam.setState({ ...state, slots: state.slots.slice(1) })).toThrow(RangeError);
  });
});

describe('RMSProp resume on the case 13 quadratic', () => {
  const rmsPropFor = (w: tf.Variable) => new RmsProp([w], { learningRate: 0.05 }, ['w']);

  it('follows ms = rho ms + (1 - rho) g^2, w -= lr g / (sqrt(ms) + eps)', () => {
    const w = tf.variable(tf.tensor1d(input.w0));
    descend(w, rmsPropFor(w), 1);
    // After one step from ms = 0: ms = 0.01 g^2, so each weight moves by lr / sqrt(0.01) = 0.5.
    const gradient = input.a.map((a, k) => a * (input.w0[k] - input.t[k]));
    const want = input.w0.map(
      (w0, k) => w0 - (0.05 * gradient[k]) / (Math.abs(gradient[k]) * 0.1 + 1e-8),
    );
    Array.from(w.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
  });

  it('continues bit for bit after restoring its mean square and step count', () => {
    const k = input.checkpoint_after_step;
    const straightW = tf.variable(tf.tensor1d(input.w0));
    const straight = descend(straightW, rmsPropFor(straightW), input.total_steps);

    const w = tf.variable(tf.tensor1d(input.w0));
    const first = rmsPropFor(w);
    descend(w, first, k);
    const saved = structuredClone({ w: Float32Array.from(w.dataSync()), state: first.getState() });
    expect(saved.state).toMatchObject({ kind: 'rmsprop', iterations: k });
    expect(saved.state.slots.map((slot) => slot.name)).toEqual(['w/ms']);

    const resumedW = tf.variable(tf.tensor1d(saved.w));
    const resumed = rmsPropFor(resumedW);
    resumed.setState(saved.state);
    const rest = descend(resumedW, resumed, input.total_steps - k);

    expect(rest.ws).toEqual(straight.ws.slice(k));
    expect(() => adamFor(resumedW).setState(saved.state)).toThrow(RangeError);
  });
});

const mnistShape = { height: 28, width: 28, channels: 1 };

function tinyConfig(model: TrainingConfig['model']): TrainingConfig {
  return { ...trainingDefaults, model, dataset: 'mnist', seed: 5, batchSize: 8, sampleCount: 4 };
}

function batches(count: number): tf.Tensor4D[] {
  const rng = new Random(99);
  return Array.from({ length: count }, () =>
    tf.tensor4d(
      Float32Array.from({ length: 8 * 28 * 28 }, () => rng.next() * 2 - 1),
      [8, 28, 28, 1],
    ),
  );
}

function weightsOf(trainer: GanTrainer): Float32Array[] {
  const networks = [trainer.generator, trainer.discriminator, trainer.emaGenerator ?? []].flat();
  return networks
    .flatMap(allVariables)
    .map(({ variable }) => Float32Array.from(variable.dataSync() as Float32Array));
}

const open: GanTrainer[] = [];
afterEach(() => open.splice(0).forEach((t) => t.dispose()));

// The pure-JS cpu backend is far too slow for convolutions: it runs the MLP GAN only.
const resumeCases = [
  ['gan', 'wasm'],
  ['gan', 'cpu'],
  ['dcgan', 'wasm'],
  ['wgan', 'wasm'],
  ['wgan-gp', 'wasm'],
] as const;

describe.each(resumeCases)('%s trainer checkpoint on %s', (model, backend) => {
  beforeAll(async () => {
    await useBackendForTests(backend);
  });

  afterAll(async () => {
    await useBackendForTests('wasm');
  });

  it('resumes from an encoded checkpoint exactly as an uninterrupted run', () => {
    const n = 5;
    const k = 2;
    const data = batches(n);

    const straight = GanTrainer.create(tinyConfig(model), mnistShape, { width: 8 });
    open.push(straight);
    const straightLosses: TrainStepResult[] = data.map((batch) => straight.trainStep(batch));

    const first = GanTrainer.create(tinyConfig(model), mnistShape, { width: 8 });
    open.push(first);
    data.slice(0, k).forEach((batch) => first.trainStep(batch));
    const file = encodeCheckpoint({ ...first.exportState(), meta: { sampler: { position: 16 } } });

    const resumed = GanTrainer.restore(decodeCheckpoint(file));
    open.push(resumed);
    expect(resumed.step).toBe(k);
    expect(resumed.width).toBe(8);
    const resumedLosses = data.slice(k).map((batch) => resumed.trainStep(batch));

    expect(resumedLosses).toEqual(straightLosses.slice(k));
    expect(resumed.step).toBe(straight.step);
    expect(weightsOf(resumed)).toEqual(weightsOf(straight));
    expect(resumed.exportState().optimizers).toEqual(straight.exportState().optimizers);
    const [a, b] = [resumed.sampleFixed(), straight.sampleFixed()];
    expect(a.dataSync()).toEqual(b.dataSync());
    tf.dispose([a, b, ...data]);
  });
});

describe.each(['progan', 'stylegan', 'stylegan2'] as const)('%s trainer checkpoint', (model) => {
  // Phases of one step each, so the resume point falls inside a fade-in (8x8, alpha 0.5).
  const config: TrainingConfig = {
    ...tinyConfig(model),
    batchSize: 2,
    ...(model === 'progan' ? { stableSteps: 1, fadeSteps: 2 } : {}),
  };
  const paddedShape = { height: 32, width: 32, channels: 1 };

  it('resumes from an encoded checkpoint exactly as an uninterrupted run', () => {
    const rng = new Random(7);
    const data = Array.from({ length: 4 }, () =>
      tf.tensor4d(
        Float32Array.from({ length: 2 * 32 * 32 }, () => rng.next() * 2 - 1),
        [2, 32, 32, 1],
      ),
    );
    const straight = GanTrainer.create(config, paddedShape, { width: 2 });
    const first = GanTrainer.create(config, paddedShape, { width: 2 });
    open.push(straight, first);
    const straightLosses = data.map((batch) => straight.trainStep(batch));
    data.slice(0, 2).forEach((batch) => first.trainStep(batch));
    const saved = first.exportState();
    expect(saved.networkRngs !== undefined).toBe(model !== 'progan');

    const resumed = GanTrainer.restore(decodeCheckpoint(encodeCheckpoint(saved)));
    open.push(resumed);
    const resumedLosses = data.slice(2).map((batch) => resumed.trainStep(batch));

    expect(resumedLosses).toEqual(straightLosses.slice(2));
    expect(weightsOf(resumed)).toEqual(weightsOf(straight));
    expect(resumed.exportState().networkRngs).toEqual(straight.exportState().networkRngs);
    tf.dispose(data);
  });
});

describe('checkpoint file', () => {
  let state: CheckpointState;
  let file: Buffer;

  beforeAll(() => {
    const trainer = GanTrainer.create(tinyConfig('dcgan'), mnistShape, { width: 4 });
    const [batch] = batches(1);
    trainer.trainStep(batch);
    state = {
      ...trainer.exportState(),
      meta: { sampler: { epoch: 1, words: [1, 2, 3, 4] }, losses: new Float32Array([0.5, 1.5]) },
    };
    file = encodeCheckpoint(state);
    tf.dispose(batch);
    trainer.dispose();
  });

  it('round-trips every field, typed arrays included', () => {
    const decoded = decodeCheckpoint(file);
    expect(decoded).toEqual(state);
    expect(decoded.fixedNoise).toBeInstanceOf(Float32Array);
    expect(decoded.meta.losses).toEqual(new Float32Array([0.5, 1.5]));
    expect(decoded.optimizers.generator.iterations).toBe(1);
    // Raw float32 blobs: the file is barely larger than the numbers it holds.
    const floats =
      Object.values(state.generator).reduce((n, r) => n + r.data.length, 0) +
      Object.values(state.discriminator).reduce((n, r) => n + r.data.length, 0) +
      Object.values(state.emaGenerator ?? {}).reduce((n, r) => n + r.data.length, 0) +
      state.optimizers.generator.slots.reduce((n, s) => n + s.data.length, 0) +
      state.optimizers.discriminator.slots.reduce((n, s) => n + s.data.length, 0);
    expect(file.length).toBeLessThan(4 * floats + 64 * 1024);
  });

  const corruptions: [string, (buf: Buffer) => Buffer][] = [
    ['an empty file', () => Buffer.alloc(0)],
    ['a bad magic', (buf) => Buffer.concat([Buffer.from('NOTACKPT'), buf.subarray(8)])],
    [
      'a future version',
      (buf) => {
        const copy = Buffer.from(buf);
        copy.writeUInt32LE(2, 8);
        return copy;
      },
    ],
    ['a truncated header', (buf) => buf.subarray(0, 40)],
    ['a truncated payload', (buf) => buf.subarray(0, buf.length - 3)],
    ['trailing bytes', (buf) => Buffer.concat([buf, Buffer.alloc(4)])],
    [
      'a flipped payload bit',
      (buf) => {
        const copy = Buffer.from(buf);
        copy[copy.length - 10] ^= 0x10;
        return copy;
      },
    ],
    [
      'a broken header',
      (buf) => {
        const copy = Buffer.from(buf);
        copy[17] = 0x7b; // '{' inside the JSON
        return copy;
      },
    ],
  ];

  it.each(corruptions)('rejects %s with GANFORGE_ERR_CHECKPOINT_CORRUPT', (_name, damage) => {
    expect(() => decodeCheckpoint(damage(file))).toThrow(
      expect.objectContaining({ code: 'GANFORGE_ERR_CHECKPOINT_CORRUPT' }),
    );
  });

  it('refuses to restore weights into a different architecture', () => {
    const before = tf.memory().numTensors;
    const wider = { ...state, architecture: { width: 8 } };
    expect(() => GanTrainer.restore(wider)).toThrow(
      expect.objectContaining({ code: 'GANFORGE_ERR_CHECKPOINT_CORRUPT' }),
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
