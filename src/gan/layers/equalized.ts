/**
 * Equalized learning rate (Karras et al. 2018, "Progressive Growing of GANs", section 4.1):
 * weights are drawn from N(0, 1) and multiplied at run time by He's constant
 * c = gain / sqrt(fan_in). Adam's updates are scale-free, so every layer then learns at the same
 * speed whatever its fan-in. `lrMultiplier` (StyleGAN, Karras et al. 2019, appendix C: 0.01 in the
 * mapping network) slows one layer down: weights start at N(0, 1/lrMultiplier^2) and the run-time
 * scale is multiplied by lrMultiplier, so the initial function is unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { VariableStore } from './network.js';

/** He's gain for a layer followed by a (leaky) ReLU. */
export const reluGain = Math.SQRT2;

export interface EqualizedOptions {
  /** Default: sqrt(2), for a layer followed by LeakyReLU; 1 for linear outputs. */
  gain?: number;
  /** Default: 1. */
  lrMultiplier?: number;
  /** Initial bias value (default 0); null for a layer without bias. */
  biasInit?: number | null;
}

export class EqualizedDense {
  private readonly weight: tf.Variable;
  private readonly bias: tf.Variable | null;
  private readonly scale: number;
  private readonly lrMultiplier: number;

  constructor(
    store: VariableStore,
    name: string,
    inUnits: number,
    outUnits: number,
    options: EqualizedOptions = {},
  ) {
    const { gain = reluGain, lrMultiplier = 1, biasInit = 0 } = options;
    this.weight = store.normal(`${name}/weight`, [inUnits, outUnits], 1 / lrMultiplier);
    this.bias =
      biasInit === null ? null : store.filled(`${name}/bias`, [outUnits], biasInit / lrMultiplier);
    this.scale = (gain / Math.sqrt(inUnits)) * lrMultiplier;
    this.lrMultiplier = lrMultiplier;
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    const y = tf.matMul<tf.Tensor2D>(x, tf.mul(this.weight, this.scale));
    return this.bias ? tf.add<tf.Tensor2D>(y, tf.mul(this.bias, this.lrMultiplier)) : y;
  }
}

/** A square-kernel, stride-1, 'same'-padded convolution with equalized learning rate. */
export class EqualizedConv2d {
  private readonly weight: tf.Variable;
  private readonly bias: tf.Variable | null;
  private readonly scale: number;

  constructor(
    store: VariableStore,
    name: string,
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    options: Omit<EqualizedOptions, 'lrMultiplier'> = {},
  ) {
    const { gain = reluGain, biasInit = 0 } = options;
    const shape = [kernelSize, kernelSize, inChannels, outChannels];
    this.weight = store.normal(`${name}/weight`, shape);
    this.bias = biasInit === null ? null : store.filled(`${name}/bias`, [outChannels], biasInit);
    this.scale = gain / Math.sqrt(inChannels * kernelSize * kernelSize);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const y = tf.conv2d(x, tf.mul(this.weight, this.scale) as tf.Tensor4D, 1, 'same');
    return this.bias ? tf.add(y, this.bias) : y;
  }
}
