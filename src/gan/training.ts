/**
 * GAN training steps (Goodfellow et al. 2014, Algorithm 1 with k = 1 and the non-saturating
 * generator loss) and the trainer that owns both networks, their Adam optimizers, the noise stream
 * and the fixed sample noise. Each step updates one network only: the other keeps its weights and
 * its batch-norm statistics bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../data/mnist.js';
import { GanforgeError } from '../errors.js';
import { Adam } from './adam.js';
import type { CheckpointState, TensorRecord } from './checkpoint.js';
import { discriminatorLoss, generatorLoss } from './losses.js';
import {
  buildGan,
  resolveModelWidth,
  type GanNetworks,
  type ModelOptions,
} from './models/index.js';
import { Random, deriveSeed } from './random.js';
import type { TrainingConfig } from './training-config.js';

export interface GanParts extends GanNetworks {
  generatorOptimizer: tf.Optimizer;
  discriminatorOptimizer: tf.Optimizer;
}

export interface DiscriminatorStepResult {
  /** mean BCE(D(x), 1) + mean BCE(D(G(z)), 0). */
  dLoss: number;
  /** Mean D(x) as a probability: how real D finds the real batch. */
  dReal: number;
  /** Mean D(G(z)) as a probability, before this update. */
  dFake: number;
}

export interface GeneratorStepResult {
  /** Non-saturating: mean BCE(D(G(z)), 1). */
  gLoss: number;
}

export type TrainStepResult = DiscriminatorStepResult & GeneratorStepResult;

function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((weight) => weight.read() as tf.Variable);
}

/**
 * Runs `update` and then puts back the non-trainable weights of `model`: a forward pass in training
 * mode moves batch-norm moving statistics, and the network that is not being trained must not move.
 */
function keepingStatistics<T>(model: tf.LayersModel, update: () => T): T {
  const saved = model.nonTrainableWeights.map((weight) => [weight, weight.read().clone()] as const);
  try {
    return update();
  } finally {
    for (const [weight, value] of saved) {
      weight.write(value);
      value.dispose();
    }
  }
}

function readScalar(tensor: tf.Tensor | null): number {
  if (!tensor) throw new Error('the optimizer returned no cost');
  const value = tensor.dataSync()[0];
  tensor.dispose();
  return value;
}

/**
 * One discriminator update on a real batch and G(z): gradient descent on the D loss over D's
 * variables only. G runs in training mode (batch statistics), as it does in its own step.
 */
export function discriminatorStep(
  parts: GanParts,
  real: tf.Tensor4D,
  z: tf.Tensor2D,
): DiscriminatorStepResult {
  const { generator, discriminator } = parts;
  const fake = keepingStatistics(generator, () =>
    tf.tidy(() => generator.apply(z, { training: true }) as tf.Tensor4D),
  );
  let realProbability: tf.Tensor | undefined;
  let fakeProbability: tf.Tensor | undefined;
  try {
    const cost = parts.discriminatorOptimizer.minimize(
      () => {
        // Real and fake go through D as separate batches, so batch norm never mixes them.
        const realLogits = discriminator.apply(real, { training: true }) as tf.Tensor;
        const fakeLogits = discriminator.apply(fake, { training: true }) as tf.Tensor;
        realProbability = tf.keep(tf.sigmoid(realLogits).mean());
        fakeProbability = tf.keep(tf.sigmoid(fakeLogits).mean());
        return discriminatorLoss(realLogits, fakeLogits);
      },
      true,
      trainableVariables(discriminator),
    );
    return {
      dLoss: readScalar(cost),
      dReal: readScalar(realProbability ?? null),
      dFake: readScalar(fakeProbability ?? null),
    };
  } finally {
    fake.dispose();
    tf.dispose([realProbability, fakeProbability].filter((t) => t !== undefined));
  }
}

/** One generator update: descent on the non-saturating loss through a frozen D. */
export function generatorStep(parts: GanParts, z: tf.Tensor2D): GeneratorStepResult {
  const { generator, discriminator } = parts;
  const cost = keepingStatistics(discriminator, () =>
    parts.generatorOptimizer.minimize(
      () => {
        const fake = generator.apply(z, { training: true }) as tf.Tensor;
        return generatorLoss(discriminator.apply(fake, { training: true }) as tf.Tensor);
      },
      true,
      trainableVariables(generator),
    ),
  );
  return { gLoss: readScalar(cost) };
}

/** Every weight of a model by its layer-scoped name (`g_bn1/moving_mean`), copied out. */
function exportWeights(model: tf.LayersModel): Record<string, TensorRecord> {
  const weights: Record<string, TensorRecord> = {};
  for (const weight of model.weights) {
    weights[weight.originalName] = {
      shape: weight.shape.map(Number),
      dtype: 'float32',
      data: Float32Array.from(weight.read().dataSync() as Float32Array),
    };
  }
  return weights;
}

function importWeights(model: tf.LayersModel, saved: Record<string, TensorRecord>): void {
  const expected = new Set(model.weights.map((weight) => weight.originalName));
  const unknown = Object.keys(saved).filter((name) => !expected.has(name));
  const problems = unknown.map((name) => `unexpected ${name}`);
  for (const weight of model.weights) {
    const record = saved[weight.originalName];
    if (!record) problems.push(`missing ${weight.originalName}`);
    else if (record.shape.join('x') !== weight.shape.join('x')) {
      problems.push(`${weight.originalName} is [${record.shape}], expected [${weight.shape}]`);
    }
  }
  if (problems.length > 0) {
    throw new GanforgeError(
      'GANFORGE_ERR_CHECKPOINT_CORRUPT',
      `checkpoint does not fit the ${model.name}: ${problems.slice(0, 5).join('; ')}`,
      { problems },
    );
  }
  for (const weight of model.weights) {
    const { data, shape } = saved[weight.originalName];
    const value = tf.tensor(data, shape, 'float32');
    weight.write(value);
    value.dispose();
  }
}

function createAdam(model: tf.LayersModel, config: TrainingConfig): Adam {
  return new Adam(
    trainableVariables(model),
    { learningRate: config.learningRate, beta1: config.beta1, beta2: config.beta2 },
    model.trainableWeights.map((weight) => weight.originalName),
  );
}

export class GanTrainer implements GanParts {
  readonly generator: tf.LayersModel;
  readonly discriminator: tf.LayersModel;
  readonly generatorOptimizer: Adam;
  readonly discriminatorOptimizer: Adam;
  /** Resolved model width (see ModelOptions). */
  readonly width: number;
  private stepCount = 0;
  private readonly noise: Random;
  private fixedNoise: tf.Tensor2D;

  private constructor(
    readonly config: TrainingConfig,
    readonly imageShape: ImageShape,
    options: ModelOptions,
  ) {
    this.width = resolveModelWidth(config.model, { width: options.width ?? config.width });
    const networks = buildGan(config, imageShape, { width: this.width });
    this.generator = networks.generator;
    this.discriminator = networks.discriminator;
    this.generatorOptimizer = createAdam(this.generator, config);
    this.discriminatorOptimizer = createAdam(this.discriminator, config);
    this.noise = new Random(deriveSeed(config.seed, 'noise'));
    const sampleNoise = new Random(deriveSeed(config.seed, 'sample-noise'));
    this.fixedNoise = tf.tensor2d(sampleNoise.normals(config.sampleCount * config.latentDim), [
      config.sampleCount,
      config.latentDim,
    ]);
  }

  /** A fresh trainer: weights, noise and sample noise all follow from config.seed. */
  static create(
    config: TrainingConfig,
    imageShape: ImageShape,
    options: ModelOptions = {},
  ): GanTrainer {
    return new GanTrainer(config, imageShape, options);
  }

  /** A trainer that continues exactly where the one that exported `state` stopped. */
  static restore(state: CheckpointState): GanTrainer {
    const trainer = new GanTrainer(state.config, state.imageShape, state.architecture);
    try {
      importWeights(trainer.generator, state.generator);
      importWeights(trainer.discriminator, state.discriminator);
      trainer.generatorOptimizer.setState(state.optimizers.generator);
      trainer.discriminatorOptimizer.setState(state.optimizers.discriminator);
      trainer.noise.setState(state.noiseRng);
      if (state.fixedNoise.length !== trainer.fixedNoise.size) {
        throw new RangeError(`fixed noise has ${state.fixedNoise.length} values`);
      }
      const fixedNoise = tf.tensor2d(state.fixedNoise, trainer.fixedNoise.shape);
      trainer.fixedNoise.dispose();
      trainer.fixedNoise = fixedNoise;
      trainer.stepCount = state.step;
    } catch (err) {
      trainer.dispose();
      if (err instanceof GanforgeError) throw err;
      throw new GanforgeError(
        'GANFORGE_ERR_CHECKPOINT_CORRUPT',
        `checkpoint does not fit its own config: ${(err as Error).message}`,
      );
    }
    return trainer;
  }

  /** Generator updates done so far (one per trainStep). */
  get step(): number {
    return this.stepCount;
  }

  /** A batch of z ~ N(0, I) from the run's seeded noise stream. */
  private drawNoise(count: number): tf.Tensor2D {
    const { latentDim } = this.config;
    return tf.tensor2d(this.noise.normals(count * latentDim), [count, latentDim]);
  }

  discriminatorStep(real: tf.Tensor4D): DiscriminatorStepResult {
    const z = this.drawNoise(real.shape[0]);
    try {
      return discriminatorStep(this, real, z);
    } finally {
      z.dispose();
    }
  }

  generatorStep(): GeneratorStepResult {
    const z = this.drawNoise(this.config.batchSize);
    try {
      const result = generatorStep(this, z);
      this.stepCount += 1;
      return result;
    } finally {
      z.dispose();
    }
  }

  /** One D update, then one G update. Non-finite losses are returned as they are. */
  trainStep(real: tf.Tensor4D): TrainStepResult {
    const d = this.discriminatorStep(real);
    return { ...d, ...this.generatorStep() };
  }

  /** G(fixed noise) in inference mode (batch norm uses its moving statistics); caller disposes. */
  sampleFixed(): tf.Tensor4D {
    return tf.tidy(() => this.generator.apply(this.fixedNoise, { training: false }) as tf.Tensor4D);
  }

  exportState(): CheckpointState {
    return {
      format: 'ganforge-checkpoint',
      version: 1,
      step: this.stepCount,
      seed: this.config.seed,
      config: structuredClone(this.config),
      imageShape: { ...this.imageShape },
      architecture: { width: this.width },
      generator: exportWeights(this.generator),
      discriminator: exportWeights(this.discriminator),
      optimizers: {
        generator: this.generatorOptimizer.getState(),
        discriminator: this.discriminatorOptimizer.getState(),
      },
      noiseRng: this.noise.getState(),
      fixedNoise: Float32Array.from(this.fixedNoise.dataSync() as Float32Array),
      meta: {},
    };
  }

  dispose(): void {
    this.generatorOptimizer.dispose();
    this.discriminatorOptimizer.dispose();
    this.generator.dispose();
    this.discriminator.dispose();
    this.fixedNoise.dispose();
  }
}
