/**
 * The last block of the Progressive GAN, StyleGAN and StyleGAN2 discriminators at 4x4
 * (Karras et al. 2018, table 2): minibatch standard deviation, a 3x3 convolution, a dense layer
 * over the 4x4 map and a linear logit.
 */
import * as tf from '@tensorflow/tfjs';
import { twiceDifferentiableLeakyRelu } from './activations.js';
import { EqualizedConv2d, EqualizedDense } from './equalized.js';
import type { VariableStore } from './network.js';
import { minibatchStddev } from './normalization.js';

export class DiscriminatorOutput {
  private readonly conv: EqualizedConv2d;
  private readonly dense: EqualizedDense;
  private readonly logit: EqualizedDense;

  constructor(
    store: VariableStore,
    private readonly channels: number,
  ) {
    this.conv = new EqualizedConv2d(store, 'd4/conv', channels + 1, channels, 3);
    this.dense = new EqualizedDense(store, 'd4/dense', 16 * channels, channels);
    this.logit = new EqualizedDense(store, 'd4/logit', channels, 1, { gain: 1 });
  }

  /** [N, 4, 4, channels] -> logits [N, 1]. */
  apply(x: tf.Tensor4D): tf.Tensor2D {
    const h = twiceDifferentiableLeakyRelu(this.conv.apply(minibatchStddev(x)));
    const flat = tf.reshape(h, [h.shape[0], 16 * this.channels]) as tf.Tensor2D;
    return this.logit.apply(twiceDifferentiableLeakyRelu(this.dense.apply(flat)));
  }
}
