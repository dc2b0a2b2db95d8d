/**
 * StyleGAN (Karras et al. 2019, "A Style-Based Generator Architecture for GANs"), sized for 32x32.
 * A mapping network turns z into w (section 2); the synthesis network starts from a learned
 * constant 4x4 input and, at every layer, adds per-pixel noise with a learned per-channel scale
 * (section 3.2) and then sets the style of the feature maps with AdaIN from w (eq. 1). Training
 * mixes two styles at a random crossover layer in 90% of batches (section 3.1); sampling can use
 * the truncation trick around the tracked average w (appendix B).
 *
 * Trained at the final resolution from the start, without progressive growing (StyleGAN2,
 * section 4.1, trains without it); the upsampling is nearest-neighbour without the paper's blur
 * filter. The discriminator is Progressive GAN's at the final resolution; loss: the non-saturating
 * logistic loss (losses.ts) with R1 (penalties.ts), the paper's choice for FFHQ.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../../data/mnist.js';
import { Random, deriveSeed } from '../random.js';
import { twiceDifferentiableLeakyRelu as lrelu } from '../layers/activations.js';
import { EqualizedConv2d } from '../layers/equalized.js';
import { StyleMapping, type StyleOptions } from '../layers/mapping.js';
import { VariableStore } from '../layers/network.js';
import type { NamedVariable, Network } from './network.js';
import { NoiseInjection, noiseImages } from '../layers/noise.js';
import { AdaptiveInstanceNorm } from '../layers/normalization.js';
import { upsample2x } from '../layers/resample.js';
import {
  ProgressiveDiscriminator,
  featureChannels,
  firstResolution,
  networkResolution,
} from './progressive-gan.js';

export const styleGanDefaultWidth = 16;

export interface StyleGeneratorOptions {
  /** Fully connected layers of the mapping network (the paper: 8); default 2 for 32x32 digits. */
  mappingDepth?: number;
  /** Size of w; default 4 * width, the channels of the 4x4 layers (the paper: 512 for both). */
  styleDim?: number;
}

export interface StyleApplyOptions extends StyleOptions {
  /**
   * Draw this call's noise inputs and mixing from a stream of this seed instead of the network's
   * own, so the same z gives the same images (fixed sample grids, tests).
   */
  seed?: number;
}

/** The stream a call draws its noise and mixing from. */
export function callRandom(own: Random, options: StyleApplyOptions): Random {
  return options.seed === undefined ? own : new Random(options.seed);
}

/** One synthesis layer: [upsample] [3x3 conv] -> noise -> bias -> LeakyReLU -> AdaIN(w). */
class StyleLayer {
  readonly resolution: number;
  private readonly conv: EqualizedConv2d | null;
  private readonly noise: NoiseInjection;
  private readonly bias: tf.Variable;
  private readonly adain: AdaptiveInstanceNorm;

  constructor(
    store: VariableStore,
    name: string,
    spec: { resolution: number; inChannels: number; channels: number; styleDim: number },
    private readonly upsample: boolean,
    withConv: boolean,
  ) {
    const { resolution, inChannels, channels, styleDim } = spec;
    this.resolution = resolution;
    this.conv = withConv
      ? new EqualizedConv2d(store, `${name}/conv`, inChannels, channels, 3)
      : null;
    this.noise = new NoiseInjection(store, name, channels);
    this.bias = store.filled(`${name}/bias`, [channels], 0);
    this.adain = new AdaptiveInstanceNorm(store, `${name}/adain`, styleDim, channels);
  }

  apply(x: tf.Tensor4D, w: tf.Tensor2D, random: Random): tf.Tensor4D {
    const input = this.upsample ? upsample2x(x) : x;
    const h = this.conv ? this.conv.apply(input) : input;
    const [n, height, width] = h.shape;
    const noisy = this.noise.apply(h, noiseImages(random, n, height, width));
    return this.adain.apply(lrelu(tf.add(noisy, this.bias)), w);
  }
}

/**
 * What the StyleGAN and StyleGAN2 generators share: the mapping network, the learned constant
 * input, the stream of noise and mixing draws, and the path z -> ws -> synthesis. Each subclass
 * builds its synthesis layers and says how many ws they take.
 */
export abstract class StyleBasedGenerator implements Network {
  abstract readonly name: string;
  readonly finalResolution: number;
  /** Draws the noise inputs and the mixing latents and crossovers; checkpoint its state. */
  readonly random: Random;
  protected readonly store: VariableStore;
  protected readonly styleDim: number;
  private readonly mapping: StyleMapping;
  private readonly constant: tf.Variable;

  protected constructor(
    latentDim: number,
    image: ImageShape,
    private readonly width: number,
    seed: number,
    options: StyleGeneratorOptions,
    noiseStream: string,
  ) {
    this.finalResolution = networkResolution(image);
    this.store = new VariableStore(seed);
    this.random = new Random(deriveSeed(seed, noiseStream));
    const c4 = this.channels(firstResolution);
    this.styleDim = options.styleDim ?? c4;
    this.mapping = new StyleMapping(this.store, {
      latentDim,
      styleDim: this.styleDim,
      depth: options.mappingDepth ?? 2,
    });
    // The learned constant starts at 1, as in the authors' code.
    this.constant = this.store.filled('synthesis/constant', [1, 4, 4, c4], 1);
  }

  /** Feature maps of the synthesis layers at resolution r. */
  protected channels(r: number): number {
    return featureChannels(r, this.finalResolution, this.width);
  }

  /** The learned constant input, once per sample of a batch of n. */
  protected constantInput(n: number): tf.Tensor4D {
    return tf.mul<tf.Tensor4D>(this.constant, tf.ones([n, 1, 1, 1]));
  }

  get trainableVariables(): NamedVariable[] {
    return this.store.trainableVariables;
  }

  get stateVariables(): NamedVariable[] {
    return this.store.stateVariables;
  }

  /** How many ws the synthesis network takes. */
  abstract get styleCount(): number;

  /** The synthesis network: styleCount ws [N, styleDim] -> images [N, R, R, C], linear. */
  abstract synthesize(styles: tf.Tensor2D[], random?: Random): tf.Tensor4D;

  /** One w per style input, after mixing and truncation (see StyleMapping.styles). */
  styles(z: tf.Tensor2D, options: StyleApplyOptions, random = this.random): tf.Tensor2D[] {
    return this.mapping.styles(z, this.styleCount, options, random);
  }

  /** z [N, latentDim] -> images [N, R, R, C], linear. */
  apply(z: tf.Tensor, options: StyleApplyOptions): tf.Tensor4D {
    const random = callRandom(this.random, options);
    return tf.tidy(() => this.synthesize(this.styles(z as tf.Tensor2D, options, random), random));
  }

  dispose(): void {
    this.store.dispose();
  }
}

export class StyleGenerator extends StyleBasedGenerator {
  readonly name = 'stylegan-generator';
  private readonly layers: StyleLayer[] = [];
  private readonly toRgb: EqualizedConv2d;

  constructor(
    latentDim: number,
    image: ImageShape,
    width: number,
    seed: number,
    options: StyleGeneratorOptions = {},
  ) {
    super(latentDim, image, width, seed, options, 'stylegan-noise');
    const c4 = this.channels(firstResolution);
    const spec = (r: number, inChannels: number) => ({
      resolution: r,
      inChannels,
      channels: this.channels(r),
      styleDim: this.styleDim,
    });
    this.layers.push(new StyleLayer(this.store, 'g4/layer0', spec(4, c4), false, false));
    this.layers.push(new StyleLayer(this.store, 'g4/layer1', spec(4, c4), false, true));
    for (let r = 2 * firstResolution; r <= this.finalResolution; r *= 2) {
      const [inC, outC] = [this.channels(r / 2), this.channels(r)];
      this.layers.push(new StyleLayer(this.store, `g${r}/layer0`, spec(r, inC), true, true));
      this.layers.push(new StyleLayer(this.store, `g${r}/layer1`, spec(r, outC), false, true));
    }
    const last = this.channels(this.finalResolution);
    this.toRgb = new EqualizedConv2d(this.store, 'to_rgb', last, image.channels, 1, { gain: 1 });
  }

  /** Synthesis layers, each taking its own w. */
  get styleCount(): number {
    return this.layers.length;
  }

  synthesize(styles: tf.Tensor2D[], random = this.random): tf.Tensor4D {
    let h = this.constantInput(styles[0].shape[0]);
    this.layers.forEach((layer, i) => {
      h = layer.apply(h, styles[i], random);
    });
    return this.toRgb.apply(h);
  }
}

export function buildStyleGanGenerator(
  latentDim: number,
  image: ImageShape,
  width: number,
  seed: number,
  options: StyleGeneratorOptions = {},
): StyleGenerator {
  return new StyleGenerator(latentDim, image, width, seed, options);
}

/** Progressive GAN's discriminator fixed at the final resolution (StyleGAN, section 2). */
export function buildStyleGanDiscriminator(
  image: ImageShape,
  width: number,
  seed: number,
): ProgressiveDiscriminator {
  const resolution = networkResolution(image);
  return new ProgressiveDiscriminator(image, width, seed, {
    startResolution: resolution,
    name: 'stylegan-discriminator',
  });
}
