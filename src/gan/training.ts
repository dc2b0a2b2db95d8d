/**
 * GAN training steps and the trainer that owns both networks, their optimizers, the moving
 * average of the generator, the noise streams and the fixed sample noise. The run's model name
 * selects an objective (objectives.ts): the loss, the critic updates per generator update,
 * clipping or a gradient penalty, and the optimizer. Each step updates one network only: the
 * other keeps its weights and its state (batch-norm statistics) bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../data/mnist.js';
import { GanforgeError } from '../errors.js';
import { Adam } from './adam.js';
import type { CheckpointState, TensorRecord } from './checkpoint.js';
import {
  discriminatorLoss,
  generatorLoss,
  gradientPenalty,
  wassersteinCriticLoss,
  wassersteinGeneratorLoss,
} from './losses.js';
import {
  buildGan,
  buildGenerator,
  generatorRandom,
  resolveModelWidth,
  type ModelOptions,
} from './models/index.js';
import { allVariables, keepingState, type Network } from './models/network.js';
import {
  ProgressiveDiscriminator,
  ProgressiveGenerator,
  networkResolution,
  progressiveRealImages,
  progressiveSchedule,
  type ProgressivePhase,
} from './models/progressive-gan.js';
import { upsample2x } from './layers/resample.js';
import { r1Penalty } from './penalties.js';
import { resolveObjective, type Objective, type OptimizerSpec } from './objectives.js';
import { Random, deriveSeed, type RandomState } from './random.js';
import { RmsProp } from './rmsprop.js';
import type { SlottedOptimizer } from './slotted-optimizer.js';
import type { TrainingConfig } from './training-config.js';

export interface GanParts {
  generator: Network;
  discriminator: Network;
  generatorOptimizer: tf.Optimizer;
  discriminatorOptimizer: tf.Optimizer;
  objective: Objective;
}

export interface DiscriminatorStepResult {
  /**
   * The loss D descends: mean BCE(D(x), 1) + mean BCE(D(G(z)), 0), or for the Wasserstein models
   * mean D(G(z)) - mean D(x), plus the gradient penalty for `wgan-gp`.
   */
  dLoss: number;
  /** Mean D(x) before this update: a probability, or the critic's raw score (WGAN). */
  dReal: number;
  /** Mean D(G(z)) before this update, in the same units as dReal. */
  dFake: number;
  /** The gradient penalty term included in dLoss (`wgan-gp` only). */
  gradientPenalty?: number;
  /** The R1 term included in dLoss, in the D updates that apply it (`stylegan`, `stylegan2`). */
  r1Penalty?: number;
}

export interface GeneratorStepResult {
  /** Non-saturating mean BCE(D(G(z)), 1), or -mean D(G(z)) for the Wasserstein models. */
  gLoss: number;
}

export type TrainStepResult = DiscriminatorStepResult & GeneratorStepResult;

function variablesOf(network: Network): tf.Variable[] {
  return network.trainableVariables.map(({ variable }) => variable);
}

function readScalar(tensor: tf.Tensor | null | undefined): number {
  if (!tensor) throw new Error('the step produced no value');
  const value = tensor.dataSync()[0];
  tensor.dispose();
  return value;
}

/**
 * One discriminator (critic) update on a real batch and G(z): gradient descent on the D loss over
 * D's variables only, then weight clipping for `wgan`. G runs in training mode (batch statistics),
 * as it does in its own step. `alpha` ([N], uniform in [0, 1]) places the gradient-penalty points
 * between real and fake samples; it is required when the objective has a penalty.
 */
export function discriminatorStep(
  parts: GanParts,
  real: tf.Tensor4D,
  z: tf.Tensor2D,
  alpha?: tf.Tensor1D,
  withR1 = false,
): DiscriminatorStepResult {
  const { generator, discriminator, objective } = parts;
  if (objective.gradientPenalty !== null && !alpha) {
    throw new RangeError('a gradient-penalty step needs one interpolation alpha per sample');
  }
  const fake = keepingState(generator, () =>
    tf.tidy(() => generator.apply(z, { training: true }) as tf.Tensor4D),
  );
  const kept: { real?: tf.Tensor; fake?: tf.Tensor; penalty?: tf.Tensor; r1?: tf.Tensor } = {};
  const summary = objective.loss === 'wasserstein' ? (t: tf.Tensor) => t : tf.sigmoid;
  try {
    const cost = parts.discriminatorOptimizer.minimize(
      () => {
        const critic = (images: tf.Tensor) => discriminator.apply(images, { training: true });
        // Real and fake go through D as separate batches, so batch norm never mixes them.
        const realScores = critic(real);
        const fakeScores = critic(fake);
        kept.real = tf.keep(summary(realScores).mean());
        kept.fake = tf.keep(summary(fakeScores).mean());
        if (objective.loss === 'non-saturating') {
          const loss = discriminatorLoss(realScores, fakeScores);
          if (!withR1 || objective.r1 === null) return loss;
          const r1 = r1Penalty(discriminator, real, objective.r1);
          kept.r1 = tf.keep(r1.clone());
          return tf.add(loss, r1) as tf.Scalar;
        }
        const loss = wassersteinCriticLoss(realScores, fakeScores);
        if (objective.gradientPenalty === null) return loss;
        const lambda = objective.gradientPenalty;
        const penalty = gradientPenalty(critic, real, fake, alpha as tf.Tensor1D, lambda);
        kept.penalty = tf.keep(penalty.clone());
        return tf.add(loss, penalty) as tf.Scalar;
      },
      true,
      variablesOf(discriminator),
    );
    if (objective.clipValue !== null) clipWeights(discriminator, objective.clipValue);
    return {
      dLoss: readScalar(cost),
      dReal: readScalar(kept.real),
      dFake: readScalar(kept.fake),
      ...(kept.penalty ? { gradientPenalty: readScalar(kept.penalty) } : {}),
      ...(kept.r1 ? { r1Penalty: readScalar(kept.r1) } : {}),
    };
  } finally {
    fake.dispose();
    tf.dispose(Object.values(kept).filter((t) => !t.isDisposed));
  }
}

/** WGAN's Lipschitz constraint (Arjovsky et al. 2017, Algorithm 1, line 7): every weight in [-c, c]. */
function clipWeights(network: Network, clipValue: number): void {
  tf.tidy(() => {
    for (const { variable } of network.trainableVariables) {
      variable.assign(tf.clipByValue(variable, -clipValue, clipValue));
    }
  });
}

/** One generator update through a frozen D. */
export function generatorStep(parts: GanParts, z: tf.Tensor2D): GeneratorStepResult {
  const { generator, discriminator, objective } = parts;
  const cost = keepingState(discriminator, () =>
    parts.generatorOptimizer.minimize(
      () => {
        const fake = generator.apply(z, { training: true });
        const scores = discriminator.apply(fake, { training: true });
        return objective.loss === 'wasserstein'
          ? wassersteinGeneratorLoss(scores)
          : generatorLoss(scores);
      },
      true,
      variablesOf(generator),
    ),
  );
  return { gLoss: readScalar(cost) };
}

/** Every variable of a network by its stable name (`g_bn1/moving_mean`), copied out. */
function exportWeights(network: Network): Record<string, TensorRecord> {
  const weights: Record<string, TensorRecord> = {};
  for (const { name, variable } of allVariables(network)) {
    weights[name] = {
      shape: [...variable.shape],
      dtype: 'float32',
      data: Float32Array.from(variable.dataSync() as Float32Array),
    };
  }
  return weights;
}

function importWeights(network: Network, saved: Record<string, TensorRecord>): void {
  const variables = allVariables(network);
  const expected = new Set(variables.map(({ name }) => name));
  const unknown = Object.keys(saved).filter((name) => !expected.has(name));
  const problems = unknown.map((name) => `unexpected ${name}`);
  for (const { name, variable } of variables) {
    const record = saved[name];
    if (!record) problems.push(`missing ${name}`);
    else if (record.shape.join('x') !== variable.shape.join('x')) {
      problems.push(`${name} is [${record.shape}], expected [${variable.shape}]`);
    }
  }
  if (problems.length > 0) {
    throw new GanforgeError(
      'GANFORGE_ERR_CHECKPOINT_CORRUPT',
      `checkpoint does not fit the ${network.name}: ${problems.slice(0, 5).join('; ')}`,
      { problems },
    );
  }
  for (const { name, variable } of variables) {
    const { data, shape } = saved[name];
    tf.tidy(() => variable.assign(tf.tensor(data, shape, 'float32')));
  }
}

function restoreNetworkRandom(network: Network, state: RandomState | undefined): void {
  const random = generatorRandom(network);
  if (random && state) random.setState(state);
}

function copyWeights(from: Network, to: Network): void {
  const source = allVariables(from);
  tf.tidy(() => allVariables(to).forEach(({ variable }, i) => variable.assign(source[i].variable)));
}

function createOptimizer(network: Network, spec: OptimizerSpec): SlottedOptimizer {
  const names = network.trainableVariables.map(({ name }) => name);
  if (spec.kind === 'rmsprop') {
    return new RmsProp(variablesOf(network), { learningRate: spec.learningRate }, names);
  }
  const { learningRate, beta1, beta2 } = spec;
  return new Adam(variablesOf(network), { learningRate, beta1, beta2 }, names);
}

/** Which generator draws samples, and how. */
export interface SamplingChoice {
  /** The trained generator instead of its moving average (when the run keeps one). */
  raw?: boolean;
  /** Truncation psi of the style-based generators; 1 leaves w as mapped. */
  psi?: number;
}

/**
 * The decay of the generator average after `updates` G updates: the configured decay, lowered
 * early on as TensorFlow's ExponentialMovingAverage does with num_updates, so the average is not
 * dominated by the random initial weights in short runs.
 */
export function emaDecayAt(decay: number, updates: number): number {
  return Math.min(decay, (1 + updates) / (10 + updates));
}

export class GanTrainer implements GanParts {
  readonly generator: Network;
  readonly discriminator: Network;
  /** Moving average of G's weights; null when the config's emaDecay is 0. */
  readonly emaGenerator: Network | null;
  readonly generatorOptimizer: SlottedOptimizer;
  readonly discriminatorOptimizer: SlottedOptimizer;
  readonly objective: Objective;
  /** Resolved model width (see ModelOptions). */
  readonly width: number;
  private stepCount = 0;
  /** D updates so far; lazy R1 runs on every objective.r1.interval-th. */
  private discriminatorUpdates = 0;
  private currentPhase: ProgressivePhase | null = null;
  private readonly noise: Random;
  /** Draws the gradient penalty's interpolation points. */
  private readonly interpolation: Random;
  private fixedNoise: tf.Tensor2D;

  private constructor(
    readonly config: TrainingConfig,
    readonly imageShape: ImageShape,
    options: ModelOptions,
  ) {
    this.objective = resolveObjective(config);
    this.width = resolveModelWidth(config.model, { width: options.width ?? config.width });
    const networks = buildGan(config, imageShape, { width: this.width });
    this.generator = networks.generator;
    this.discriminator = networks.discriminator;
    this.emaGenerator = null;
    if (this.objective.emaDecay > 0) {
      this.emaGenerator = buildGenerator(config, imageShape, { width: this.width });
      copyWeights(this.generator, this.emaGenerator);
    }
    this.generatorOptimizer = createOptimizer(this.generator, this.objective.optimizer);
    this.discriminatorOptimizer = createOptimizer(this.discriminator, this.objective.optimizer);
    this.noise = new Random(deriveSeed(config.seed, 'noise'));
    this.interpolation = new Random(deriveSeed(config.seed, 'interpolation'));
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
      if (trainer.emaGenerator) {
        // A checkpoint from before the average existed starts it from the restored G.
        if (state.emaGenerator) importWeights(trainer.emaGenerator, state.emaGenerator);
        else copyWeights(trainer.generator, trainer.emaGenerator);
      }
      trainer.generatorOptimizer.setState(state.optimizers.generator);
      trainer.discriminatorOptimizer.setState(state.optimizers.discriminator);
      trainer.noise.setState(state.noiseRng);
      if (state.interpolationRng) trainer.interpolation.setState(state.interpolationRng);
      if (state.fixedNoise.length !== trainer.fixedNoise.size) {
        throw new RangeError(`fixed noise has ${state.fixedNoise.length} values`);
      }
      const fixedNoise = tf.tensor2d(state.fixedNoise, trainer.fixedNoise.shape);
      trainer.fixedNoise.dispose();
      trainer.fixedNoise = fixedNoise;
      trainer.stepCount = state.step;
      trainer.discriminatorUpdates = state.optimizers.discriminator.iterations;
      restoreNetworkRandom(trainer.generator, state.networkRngs?.generator);
      if (trainer.emaGenerator) {
        restoreNetworkRandom(trainer.emaGenerator, state.networkRngs?.emaGenerator);
      }
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

  /** Real batches one trainStep uses: one per critic update. */
  get batchesPerStep(): number {
    return this.objective.nCritic;
  }

  /** A batch of z ~ N(0, I) from the run's seeded noise stream. */
  private drawNoise(count: number): tf.Tensor2D {
    const { latentDim } = this.config;
    return tf.tensor2d(this.noise.normals(count * latentDim), [count, latentDim]);
  }

  /** The progressive phase of the last step (`progan`), null for the other models. */
  get phase(): ProgressivePhase | null {
    return this.currentPhase;
  }

  /** Puts every network in the phase of the coming step (`progan`); null for the others. */
  private enterPhase(): ProgressivePhase | null {
    const schedule = this.objective.progressive;
    if (!schedule) return null;
    const finalResolution = networkResolution(this.imageShape);
    const phase = progressiveSchedule(this.stepCount, { ...schedule, finalResolution });
    for (const network of [this.generator, this.discriminator, this.emaGenerator]) {
      const growing =
        network instanceof ProgressiveGenerator || network instanceof ProgressiveDiscriminator;
      if (growing) network.setPhase(phase);
    }
    this.currentPhase = phase;
    return phase;
  }

  discriminatorStep(real: tf.Tensor4D): DiscriminatorStepResult {
    const count = real.shape[0];
    const phase = this.enterPhase();
    const seen = phase ? progressiveRealImages(real, phase) : real;
    const z = this.drawNoise(count);
    const alpha =
      this.objective.gradientPenalty === null
        ? undefined
        : tf.tensor1d(Float32Array.from({ length: count }, () => this.interpolation.next()));
    const r1 = this.objective.r1;
    const withR1 = r1 !== null && this.discriminatorUpdates % r1.interval === 0;
    try {
      const result = discriminatorStep(this, seen, z, alpha, withR1);
      this.discriminatorUpdates += 1;
      return result;
    } finally {
      tf.dispose([z, ...(alpha ? [alpha] : []), ...(seen === real ? [] : [seen])]);
    }
  }

  generatorStep(): GeneratorStepResult {
    this.enterPhase();
    const z = this.drawNoise(this.config.batchSize);
    try {
      const result = generatorStep(this, z);
      this.stepCount += 1;
      this.updateAverage();
      return result;
    } finally {
      z.dispose();
    }
  }

  /**
   * ema = decay * ema + (1 - decay) * w for every trainable weight; state (batch-norm moving
   * statistics) is copied, being a running average of G's activations already.
   */
  private updateAverage(): void {
    if (!this.emaGenerator) return;
    const decay = emaDecayAt(this.objective.emaDecay, this.stepCount);
    const live = this.generator;
    const average = this.emaGenerator;
    tf.tidy(() => {
      average.trainableVariables.forEach(({ variable }, i) => {
        const weight = live.trainableVariables[i].variable;
        variable.assign(variable.mul(decay).add(weight.mul(1 - decay)));
      });
      average.stateVariables.forEach(({ variable }, i) => {
        variable.assign(live.stateVariables[i].variable);
      });
    });
  }

  /**
   * nCritic D updates, then one G update; returns the last D update's values. `real` is one batch
   * per critic update (batchesPerStep of them), or one batch that every critic update reuses.
   * Non-finite losses are returned as they are.
   */
  trainStep(real: tf.Tensor4D | readonly tf.Tensor4D[]): TrainStepResult {
    const batches = Array.isArray(real) ? real : new Array(this.batchesPerStep).fill(real);
    if (batches.length !== this.batchesPerStep) {
      throw new RangeError(`${batches.length} real batches for ${this.batchesPerStep} updates`);
    }
    let d: DiscriminatorStepResult | undefined;
    for (const batch of batches) d = this.discriminatorStep(batch);
    return { ...(d as DiscriminatorStepResult), ...this.generatorStep() };
  }

  /** The generator samples and evaluations use: the moving average when there is one. */
  get samplingGenerator(): Network {
    return this.emaGenerator ?? this.generator;
  }

  /**
   * G(fixed noise) in inference mode (batch norm uses its moving statistics), at the full image
   * size (a growing G's coarser images are upsampled); caller disposes. Generators that draw noise
   * inputs draw them from a fixed seed, so every grid of a run shows the same noise.
   */
  sampleFixed(): tf.Tensor4D {
    return this.generate(this.fixedNoise, deriveSeed(this.config.seed, 'sample-noise-inputs'));
  }

  /**
   * G(z) of the sampling generator in inference mode, at the full image size; caller disposes.
   * `noiseSeed` seeds the noise inputs of the generators that draw them. `raw` picks the trained
   * generator over its moving average; `psi` truncates the style-based generators' w towards its
   * average (1: none).
   */
  generate(z: tf.Tensor2D, noiseSeed: number, choice: SamplingChoice = {}): tf.Tensor4D {
    const generator = choice.raw ? this.generator : this.samplingGenerator;
    const options = { training: false, seed: noiseSeed, psi: choice.psi ?? 1 };
    return tf.tidy(() => {
      let images = generator.apply(z, options) as tf.Tensor4D;
      while (images.shape[1] < this.imageShape.height) images = upsample2x(images);
      return images;
    });
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
      ...(this.emaGenerator ? { emaGenerator: exportWeights(this.emaGenerator) } : {}),
      optimizers: {
        generator: this.generatorOptimizer.getState(),
        discriminator: this.discriminatorOptimizer.getState(),
      },
      noiseRng: this.noise.getState(),
      interpolationRng: this.interpolation.getState(),
      ...this.networkRngs(),
      fixedNoise: Float32Array.from(this.fixedNoise.dataSync() as Float32Array),
      meta: {},
    };
  }

  /** The noise-input streams of generators that draw their own (StyleGAN, StyleGAN2). */
  private networkRngs(): Pick<CheckpointState, 'networkRngs'> {
    const live = generatorRandom(this.generator);
    if (!live) return {};
    const average = this.emaGenerator && generatorRandom(this.emaGenerator);
    return {
      networkRngs: {
        generator: live.getState(),
        ...(average ? { emaGenerator: average.getState() } : {}),
      },
    };
  }

  dispose(): void {
    this.generatorOptimizer.dispose();
    this.discriminatorOptimizer.dispose();
    this.generator.dispose();
    this.discriminator.dispose();
    this.emaGenerator?.dispose();
    this.fixedNoise.dispose();
  }
}
