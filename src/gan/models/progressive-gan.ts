/**
 * Progressive GAN (Karras et al. 2018, "Progressive Growing of GANs for Improved Quality,
 * Stability, and Variation"), sized for 32x32: both networks start at 4x4 and grow by doubling
 * (4 -> 8 -> 16 -> 32). Each new resolution fades in (section 3, figure 2): while alpha goes from
 * 0 to 1, G's output blends the upsampled image of the previous resolution with that of the new
 * block, and D's input blends the downsampled image into the previous block with the new block.
 * Pixel norm in G (section 4.2), minibatch standard deviation in D (section 3), equalized learning
 * rate everywhere (section 4.1), linear toRGB / fromRGB as 1x1 convolutions (table 2).
 *
 * Loss: the paper trains with WGAN-GP; ganforge trains these networks with the non-saturating
 * logistic loss of losses.ts (optionally with R1, penalties.ts), which StyleGAN uses with the same
 * discriminator and which needs no critic-specific drift term.
 *
 * The phase (resolution and alpha) is state of each network, stored in variables so a checkpoint
 * keeps it; `progressiveSchedule` gives the phase for a step.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../../data/mnist.js';
import { GanforgeError } from '../../errors.js';
import { twiceDifferentiableLeakyRelu as lrelu } from '../layers/activations.js';
import { DiscriminatorOutput } from '../layers/discriminator-output.js';
import { EqualizedConv2d, EqualizedDense } from '../layers/equalized.js';
import { VariableStore } from '../layers/network.js';
import type { ApplyOptions, NamedVariable, Network } from './network.js';
import { pixelNorm } from '../layers/normalization.js';
import { downsample2x, downsampleTo, powerOfTwoSide, upsample2x } from '../layers/resample.js';

/** Channels at the finest resolution; coarser ones get 2x and then 4x this. */
export const progressiveGanDefaultWidth = 16;

export const firstResolution = 4;

export interface ProgressivePhase {
  /** Side of the images G makes and D sees: 4, 8, 16, ... up to the final resolution. */
  resolution: number;
  /** Fade-in of this resolution's block, in [0, 1]; 1 once it is stable. */
  alpha: number;
}

export interface ProgressiveScheduleConfig {
  /** Steps at each resolution with alpha = 1 (the paper: 800k images). */
  stableSteps: number;
  /** Steps over which a new resolution fades in (the paper: 800k images). */
  fadeSteps: number;
  /** Default 4. */
  startResolution?: number;
  finalResolution: number;
}

/**
 * The phase at `step`: stable at the start resolution, then for each doubling a linear fade-in
 * of `fadeSteps` followed by `stableSteps` stable, and the final resolution ever after.
 */
export function progressiveSchedule(
  step: number,
  config: ProgressiveScheduleConfig,
): ProgressivePhase {
  const { stableSteps, fadeSteps, finalResolution } = config;
  let resolution = config.startResolution ?? firstResolution;
  let remaining = step - stableSteps;
  while (remaining >= 0 && resolution < finalResolution) {
    resolution *= 2;
    if (remaining < fadeSteps) return { resolution, alpha: remaining / fadeSteps };
    remaining -= fadeSteps + stableSteps;
  }
  return { resolution, alpha: 1 };
}

/**
 * Channels of the feature maps at `resolution` in a network whose final resolution is `final`:
 * `width` at the final one, doubling per halving up to 4 * width (table 2 of the paper halves
 * from 512 in the same way, at larger sizes).
 */
export function featureChannels(resolution: number, final: number, width: number): number {
  return Math.min(4 * width, (width * final) / resolution);
}

/** The real batch as D sees it in `phase`: downsampled to the resolution and, while a resolution
 * fades in, blended with its own 2x-coarser version by the same alpha as the networks (the
 * authors' code does this so real and fake images change in step). */
export function progressiveRealImages(real: tf.Tensor4D, phase: ProgressivePhase): tf.Tensor4D {
  return tf.tidy(() => {
    const images = downsampleTo(real, phase.resolution);
    if (phase.alpha >= 1 || phase.resolution <= firstResolution) return images;
    const coarse = upsample2x(downsample2x(images));
    return tf.add(tf.mul(coarse, 1 - phase.alpha), tf.mul(images, phase.alpha));
  });
}

/** The side G makes and D sees: the data's larger side rounded up to a power of two (28 -> 32). */
export function networkResolution(image: ImageShape): number {
  const side = powerOfTwoSide(image.height, image.width);
  if (side < 8) {
    throw new GanforgeError(
      'GANFORGE_ERR_INVALID_CONFIG',
      `these models need images larger than 4x4, got ${image.height}x${image.width}`,
      { height: image.height, width: image.width },
    );
  }
  return side;
}

/** Blend for a fade-in; alpha = 0 and alpha = 1 give `old` and `fresh` exactly. */
function fadeIn(old: tf.Tensor4D, fresh: tf.Tensor4D, alpha: number): tf.Tensor4D {
  return tf.add(tf.mul(old, 1 - alpha), tf.mul(fresh, alpha));
}

/** The phase of one network, kept in two scalar state variables so checkpoints carry it. */
class PhaseState {
  private readonly resolution: tf.Variable;
  private readonly alpha: tf.Variable;

  constructor(
    store: VariableStore,
    private readonly first: number,
    private readonly final: number,
  ) {
    this.resolution = store.stateFilled('phase/resolution', [], first);
    this.alpha = store.stateFilled('phase/alpha', [], 1);
  }

  get(): ProgressivePhase {
    return { resolution: this.resolution.dataSync()[0], alpha: this.alpha.dataSync()[0] };
  }

  set({ resolution, alpha }: ProgressivePhase): void {
    const valid =
      Number.isInteger(Math.log2(resolution)) &&
      resolution >= this.first &&
      resolution <= this.final &&
      alpha >= 0 &&
      alpha <= 1;
    if (!valid) throw new RangeError(`invalid phase: resolution ${resolution}, alpha ${alpha}`);
    tf.tidy(() => {
      this.resolution.assign(tf.scalar(resolution));
      this.alpha.assign(tf.scalar(alpha));
    });
  }
}

export interface ProgressiveApplyOptions extends ApplyOptions {
  /** Overrides the stored alpha for this call (the resolution always comes from the phase). */
  alpha?: number;
}

export class ProgressiveGenerator implements Network {
  readonly name = 'progressive-generator';
  readonly finalResolution: number;
  private readonly store: VariableStore;
  private readonly phaseState: PhaseState;
  private readonly project: EqualizedDense;
  private readonly initialConv: EqualizedConv2d;
  private readonly blocks = new Map<number, [EqualizedConv2d, EqualizedConv2d]>();
  private readonly toRgb = new Map<number, EqualizedConv2d>();

  constructor(latentDim: number, image: ImageShape, width: number, seed: number) {
    this.finalResolution = networkResolution(image);
    this.store = new VariableStore(seed);
    this.phaseState = new PhaseState(this.store, firstResolution, this.finalResolution);
    const channels = (r: number) => featureChannels(r, this.finalResolution, width);

    // The 4x4 block: a dense "4x4 convolution" of z, then a 3x3 convolution (table 2).
    const c4 = channels(firstResolution);
    this.project = new EqualizedDense(this.store, 'g4/dense', latentDim, 16 * c4);
    this.initialConv = new EqualizedConv2d(this.store, 'g4/conv', c4, c4, 3);
    this.toRgb.set(4, this.rgbLayer(4, c4, image.channels));
    for (let r = 2 * firstResolution; r <= this.finalResolution; r *= 2) {
      const [inC, outC] = [channels(r / 2), channels(r)];
      this.blocks.set(r, [
        new EqualizedConv2d(this.store, `g${r}/conv0`, inC, outC, 3),
        new EqualizedConv2d(this.store, `g${r}/conv1`, outC, outC, 3),
      ]);
      this.toRgb.set(r, this.rgbLayer(r, outC, image.channels));
    }
  }

  get trainableVariables(): NamedVariable[] {
    return this.store.trainableVariables;
  }

  get stateVariables(): NamedVariable[] {
    return this.store.stateVariables;
  }

  get phase(): ProgressivePhase {
    return this.phaseState.get();
  }

  setPhase(phase: ProgressivePhase): void {
    this.phaseState.set(phase);
  }

  /** z [N, latentDim] -> images [N, r, r, C] at the phase's resolution r, linear output. */
  apply(z: tf.Tensor, options: ProgressiveApplyOptions): tf.Tensor4D {
    const { resolution, alpha: stored } = this.phase;
    const alpha = options.alpha ?? stored;
    return tf.tidy(() => {
      let h = this.initialBlock(z as tf.Tensor2D);
      let previous = h;
      for (let r = 2 * firstResolution; r <= resolution; r *= 2) {
        previous = h;
        h = this.block(r, h);
      }
      const image = this.rgb(resolution, h);
      if (alpha >= 1 || resolution === firstResolution) return image;
      return fadeIn(upsample2x(this.rgb(resolution / 2, previous)), image, alpha);
    });
  }

  dispose(): void {
    this.store.dispose();
  }

  private rgbLayer(r: number, channels: number, imageChannels: number): EqualizedConv2d {
    return new EqualizedConv2d(this.store, `g${r}/to_rgb`, channels, imageChannels, 1, { gain: 1 });
  }

  private initialBlock(z: tf.Tensor2D): tf.Tensor4D {
    const projected = this.project.apply(pixelNorm(z));
    const c4 = projected.shape[1] / 16;
    const h = pixelNorm(lrelu(tf.reshape(projected, [-1, 4, 4, c4]) as tf.Tensor4D));
    return pixelNorm(lrelu(this.initialConv.apply(h)));
  }

  private block(r: number, x: tf.Tensor4D): tf.Tensor4D {
    const [conv0, conv1] = this.blocks.get(r)!;
    const h = pixelNorm(lrelu(conv0.apply(upsample2x(x))));
    return pixelNorm(lrelu(conv1.apply(h)));
  }

  private rgb(r: number, h: tf.Tensor4D): tf.Tensor4D {
    return this.toRgb.get(r)!.apply(h);
  }
}

export interface ProgressiveDiscriminatorOptions {
  /**
   * Lowest resolution the network will be trained at (default 4); fromRGB layers exist from
   * here up. StyleGAN's discriminator is this one with startResolution = final resolution.
   */
  startResolution?: number;
  /** Default 'progressive-discriminator'. */
  name?: string;
}

export class ProgressiveDiscriminator implements Network {
  readonly name: string;
  readonly finalResolution: number;
  private readonly store: VariableStore;
  private readonly phaseState: PhaseState;
  private readonly startResolution: number;
  private readonly fromRgb = new Map<number, EqualizedConv2d>();
  private readonly blocks = new Map<number, [EqualizedConv2d, EqualizedConv2d]>();
  private readonly output: DiscriminatorOutput;

  constructor(
    image: ImageShape,
    width: number,
    seed: number,
    options: ProgressiveDiscriminatorOptions = {},
  ) {
    this.name = options.name ?? 'progressive-discriminator';
    this.finalResolution = networkResolution(image);
    const start = options.startResolution ?? firstResolution;
    this.startResolution = start;
    this.store = new VariableStore(seed);
    this.phaseState = new PhaseState(this.store, start, this.finalResolution);
    const channels = (r: number) => featureChannels(r, this.finalResolution, width);

    for (let r = start; r <= this.finalResolution; r *= 2) {
      this.fromRgb.set(
        r,
        new EqualizedConv2d(this.store, `d${r}/from_rgb`, image.channels, channels(r), 1),
      );
    }
    for (let r = 2 * firstResolution; r <= this.finalResolution; r *= 2) {
      const [inC, outC] = [channels(r), channels(r / 2)];
      this.blocks.set(r, [
        new EqualizedConv2d(this.store, `d${r}/conv0`, inC, inC, 3),
        new EqualizedConv2d(this.store, `d${r}/conv1`, inC, outC, 3),
      ]);
    }
    this.output = new DiscriminatorOutput(this.store, channels(firstResolution));
  }

  get trainableVariables(): NamedVariable[] {
    return this.store.trainableVariables;
  }

  get stateVariables(): NamedVariable[] {
    return this.store.stateVariables;
  }

  get phase(): ProgressivePhase {
    return this.phaseState.get();
  }

  setPhase(phase: ProgressivePhase): void {
    this.phaseState.set(phase);
  }

  /** images [N, r, r, C] at the phase's resolution r -> logits [N, 1]. */
  apply(images: tf.Tensor, options: ProgressiveApplyOptions): tf.Tensor2D {
    const { resolution, alpha: stored } = this.phase;
    const alpha = options.alpha ?? stored;
    const x = images as tf.Tensor4D;
    if (x.shape[1] !== resolution || x.shape[2] !== resolution) {
      throw new RangeError(`expected ${resolution}x${resolution} images, got ${x.shape}`);
    }
    return tf.tidy(() => {
      let h = lrelu(this.fromRgb.get(resolution)!.apply(x));
      if (resolution > firstResolution) {
        h = this.block(resolution, h);
        if (alpha < 1 && resolution > this.startResolution) {
          const old = lrelu(this.fromRgb.get(resolution / 2)!.apply(downsample2x(x)));
          h = fadeIn(old, h, alpha);
        }
      }
      for (let r = resolution / 2; r > firstResolution; r /= 2) h = this.block(r, h);
      return this.output.apply(h);
    });
  }

  dispose(): void {
    this.store.dispose();
  }

  private block(r: number, x: tf.Tensor4D): tf.Tensor4D {
    const [conv0, conv1] = this.blocks.get(r)!;
    return downsample2x(lrelu(conv1.apply(lrelu(conv0.apply(x)))));
  }
}

export function buildProgressiveGenerator(
  latentDim: number,
  image: ImageShape,
  width: number,
  seed: number,
): ProgressiveGenerator {
  return new ProgressiveGenerator(latentDim, image, width, seed);
}

export function buildProgressiveDiscriminator(
  image: ImageShape,
  width: number,
  seed: number,
  options: ProgressiveDiscriminatorOptions = {},
): ProgressiveDiscriminator {
  return new ProgressiveDiscriminator(image, width, seed, options);
}
