/**
 * Modulated and demodulated convolution (StyleGAN2, Karras et al. 2020, section 2.2, eq. 1-3):
 * the style s = A(w) scales the weights per input channel, w'_ijk = s_i w_ijk (eq. 1), and
 * demodulation divides each output channel by sqrt(sum_ik w'_ijk^2 + eps) (eq. 3), so unit-variance
 * inputs give unit-variance outputs. This replaces AdaIN's normalization of the activations, whose
 * reliance on feature statistics caused StyleGAN's droplet artifacts.
 *
 * The per-sample weights are never built: scaling the input channels by s, convolving with the
 * shared weights and scaling the output channels by the demodulation factor is the same function
 * (the authors' code calls it the non-fused path), and it needs one ordinary batched convolution
 * where a grouped convolution (which tfjs lacks) or one convolution per sample would be needed
 * otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { EqualizedDense } from './equalized.js';
import type { VariableStore } from './network.js';

const epsilon = 1e-8;

export interface ModulatedConvOptions {
  /** Default true; StyleGAN2's toRGB layers modulate without demodulating. */
  demodulate?: boolean;
}

export class ModulatedConv2d {
  private readonly toStyle: EqualizedDense;
  private readonly weight: tf.Variable;
  private readonly scale: number;
  private readonly demodulate: boolean;

  constructor(
    store: VariableStore,
    name: string,
    styleDim: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    options: ModulatedConvOptions = {},
  ) {
    // The style's bias starts at 1, so at initialization the layer is a plain convolution.
    this.toStyle = new EqualizedDense(store, `${name}/style`, styleDim, inChannels, {
      gain: 1,
      biasInit: 1,
    });
    this.weight = store.normal(`${name}/weight`, [kernelSize, kernelSize, inChannels, outChannels]);
    // Equalized learning rate (He's constant without the ReLU gain: demodulation, or the linear
    // toRGB, fixes the output scale).
    this.scale = 1 / Math.sqrt(inChannels * kernelSize * kernelSize);
    this.demodulate = options.demodulate ?? true;
  }

  apply(x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D {
    const [n, , , cIn] = x.shape;
    const style = this.toStyle.apply(w);
    const weight = tf.mul(this.weight, this.scale) as tf.Tensor4D;
    const modulated = tf.mul<tf.Tensor4D>(x, tf.reshape(style, [n, 1, 1, cIn]));
    const y = tf.conv2d(modulated, weight, 1, 'same') as tf.Tensor4D;
    if (!this.demodulate) return y;

    // sum_ik (s_i w_ijk)^2 = sum_i s_i^2 (sum_k w_ijk^2): one [N, Cin] x [Cin, Cout] product.
    const cOut = weight.shape[3];
    const energy = tf.reshape(tf.sum(tf.square(weight), [0, 1]), [cIn, cOut]);
    const demodulation = tf.rsqrt(tf.add(tf.matMul(tf.square(style), energy), epsilon));
    return tf.mul(y, tf.reshape(demodulation, [n, 1, 1, cOut]));
  }
}
