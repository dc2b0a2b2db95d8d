/**
 * StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"), sized
 * for 32x32. The mapping network, noise inputs, style mixing and truncation are StyleGAN's; AdaIN
 * is replaced by modulated and demodulated convolutions (section 2.2), which remove the droplet
 * artifacts, with noise and bias added after the normalization. G is the skip architecture
 * (section 4.1, figure 7b): every resolution adds its own toRGB (modulated, not demodulated) to
 * the upsampled sum of the coarser ones. D is the residual architecture (figure 7c), with
 * Progressive GAN's minibatch-stddev output block.
 *
 * Loss: non-saturating logistic (losses.ts) with lazy R1 on D every 16 steps (section 3.1,
 * penalties.ts). Left out: path length regularization and the blur filters of up/downsampling.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../../data/mnist.js';
import type { Random } from '../random.js';
import { twiceDifferentiableLeakyRelu as lrelu } from '../layers/activations.js';
import { DiscriminatorOutput } from '../layers/discriminator-output.js';
import { EqualizedConv2d } from '../layers/equalized.js';
import { ModulatedConv2d } from '../layers/modulated-conv.js';
import { VariableStore } from '../layers/network.js';
import type { ApplyOptions, NamedVariable, Network } from './network.js';
import { NoiseInjection, noiseImages } from '../layers/noise.js';
import { downsample2x, upsample2x } from '../layers/resample.js';
import { featureChannels, firstResolution, networkResolution } from './progressive-gan.js';
import { StyleBasedGenerator, type StyleGeneratorOptions } from './stylegan.js';

export const styleGan2DefaultWidth = 16;

/**
 * The authors' code multiplies each LeakyReLU output by sqrt(2) (He's gain): after demodulation
 * the weights no longer carry it.
 */
const activationGain = Math.SQRT2;

/** modulated conv -> noise -> bias -> LeakyReLU (figure 2c/d). */
class StyledConv {
  private readonly conv: ModulatedConv2d;
  private readonly noise: NoiseInjection;
  private readonly bias: tf.Variable;

  constructor(
    store: VariableStore,
    name: string,
    styleDim: number,
    inChannels: number,
    channels: number,
    private readonly upsample: boolean,
  ) {
    this.conv = new ModulatedConv2d(store, `${name}/conv`, styleDim, inChannels, channels, 3);
    this.noise = new NoiseInjection(store, name, channels);
    this.bias = store.filled(`${name}/bias`, [channels], 0);
  }

  apply(x: tf.Tensor4D, w: tf.Tensor2D, random: Random): tf.Tensor4D {
    const h = this.conv.apply(this.upsample ? upsample2x(x) : x, w);
    const [n, height, width] = h.shape;
    const noisy = this.noise.apply(h, noiseImages(random, n, height, width));
    return tf.mul(lrelu(tf.add(noisy, this.bias)), activationGain);
  }
}

class ToRgb {
  private readonly conv: ModulatedConv2d;
  private readonly bias: tf.Variable;

  constructor(store: VariableStore, name: string, styleDim: number, inC: number, outC: number) {
    this.conv = new ModulatedConv2d(store, `${name}/conv`, styleDim, inC, outC, 1, {
      demodulate: false,
    });
    this.bias = store.filled(`${name}/bias`, [outC], 0);
  }

  apply(x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D {
    return tf.add(this.conv.apply(x, w), this.bias);
  }
}

interface SkipBlock {
  convs: StyledConv[];
  toRgb: ToRgb;
}

export class StyleGan2Generator extends StyleBasedGenerator {
  readonly name = 'stylegan2-generator';
  private readonly blocks: SkipBlock[] = [];

  constructor(
    latentDim: number,
    image: ImageShape,
    width: number,
    seed: number,
    options: StyleGeneratorOptions = {},
  ) {
    super(latentDim, image, width, seed, options, 'stylegan2-noise');
    const [s, styleDim] = [this.store, this.styleDim];
    const c4 = this.channels(firstResolution);
    this.blocks.push({
      convs: [new StyledConv(s, 'g4/layer0', styleDim, c4, c4, false)],
      toRgb: new ToRgb(s, 'g4/to_rgb', styleDim, c4, image.channels),
    });
    for (let r = 2 * firstResolution; r <= this.finalResolution; r *= 2) {
      const [inC, outC] = [this.channels(r / 2), this.channels(r)];
      this.blocks.push({
        convs: [
          new StyledConv(s, `g${r}/layer0`, styleDim, inC, outC, true),
          new StyledConv(s, `g${r}/layer1`, styleDim, outC, outC, false),
        ],
        toRgb: new ToRgb(s, `g${r}/to_rgb`, styleDim, outC, image.channels),
      });
    }
  }

  /**
   * Ws the synthesis network takes: one per convolution plus one for the last toRGB; each toRGB
   * shares its w with the convolution that follows it, as in the authors' code (8 at 32x32).
   */
  get styleCount(): number {
    return 2 * Math.log2(this.finalResolution) - 2;
  }

  synthesize(styles: tf.Tensor2D[], random = this.random): tf.Tensor4D {
    let h = this.constantInput(styles[0].shape[0]);
    let rgb: tf.Tensor4D | null = null;
    let index = 0;
    for (const { convs, toRgb } of this.blocks) {
      for (const conv of convs) h = conv.apply(h, styles[index++], random);
      const layerRgb = toRgb.apply(h, styles[index]);
      rgb = rgb ? tf.add<tf.Tensor4D>(upsample2x(rgb), layerRgb) : layerRgb;
    }
    return rgb!;
  }
}

/** Two 3x3 convolutions and a 2x downsampling, plus a 1x1-projected downsampled shortcut; the
 * sum is scaled by 1/sqrt(2) to keep the variance (figure 7c). */
class ResidualBlock {
  private readonly conv0: EqualizedConv2d;
  private readonly conv1: EqualizedConv2d;
  private readonly skip: EqualizedConv2d;

  constructor(store: VariableStore, name: string, inC: number, outC: number) {
    this.conv0 = new EqualizedConv2d(store, `${name}/conv0`, inC, inC, 3);
    this.conv1 = new EqualizedConv2d(store, `${name}/conv1`, inC, outC, 3);
    this.skip = new EqualizedConv2d(store, `${name}/skip`, inC, outC, 1, {
      gain: 1,
      biasInit: null,
    });
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const main = downsample2x(lrelu(this.conv1.apply(lrelu(this.conv0.apply(x)))));
    const shortcut = this.skip.apply(downsample2x(x));
    return tf.mul(tf.add(main, shortcut), Math.SQRT1_2);
  }
}

export class ResidualDiscriminator implements Network {
  readonly name = 'stylegan2-discriminator';
  readonly finalResolution: number;
  private readonly store: VariableStore;
  private readonly fromRgb: EqualizedConv2d;
  private readonly blocks: ResidualBlock[] = [];
  private readonly output: DiscriminatorOutput;

  constructor(image: ImageShape, width: number, seed: number) {
    this.finalResolution = networkResolution(image);
    this.store = new VariableStore(seed);
    const channels = (r: number) => featureChannels(r, this.finalResolution, width);
    const final = this.finalResolution;
    this.fromRgb = new EqualizedConv2d(this.store, 'from_rgb', image.channels, channels(final), 1);
    for (let r = final; r > firstResolution; r /= 2) {
      this.blocks.push(new ResidualBlock(this.store, `d${r}`, channels(r), channels(r / 2)));
    }
    this.output = new DiscriminatorOutput(this.store, channels(firstResolution));
  }

  get trainableVariables(): NamedVariable[] {
    return this.store.trainableVariables;
  }

  get stateVariables(): NamedVariable[] {
    return this.store.stateVariables;
  }

  /** images [N, R, R, C] -> logits [N, 1]. */
  apply(images: tf.Tensor, _options: ApplyOptions): tf.Tensor2D {
    return tf.tidy(() => {
      let h = lrelu(this.fromRgb.apply(images as tf.Tensor4D));
      for (const block of this.blocks) h = block.apply(h);
      return this.output.apply(h);
    });
  }

  dispose(): void {
    this.store.dispose();
  }
}

export function buildStyleGan2Generator(
  latentDim: number,
  image: ImageShape,
  width: number,
  seed: number,
  options: StyleGeneratorOptions = {},
): StyleGan2Generator {
  return new StyleGan2Generator(latentDim, image, width, seed, options);
}

export function buildStyleGan2Discriminator(
  image: ImageShape,
  width: number,
  seed: number,
): ResidualDiscriminator {
  return new ResidualDiscriminator(image, width, seed);
}
