/**
 * The normalizations of Progressive GAN and StyleGAN: pixel norm, minibatch standard deviation
 * and adaptive instance normalization.
 */
import * as tf from '@tensorflow/tfjs';
import { EqualizedDense } from './equalized.js';
import type { VariableStore } from './network.js';

const epsilon = 1e-8;

/**
 * Pixelwise feature vector normalization (Karras et al. 2018, section 4.2): each pixel's
 * feature vector is scaled to unit mean square over channels. Also used on z and, in the mapping
 * network, before the first layer.
 */
export function pixelNorm<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), epsilon)));
}

/**
 * Minibatch standard deviation (Karras et al. 2018, section 3): the standard deviation of every
 * feature at every pixel over a group of samples, averaged to one number per group and appended
 * as one more feature map, so D can see how varied a batch is. Groups of `groupSize` samples as in
 * the authors' code (4), or of the largest divisor of the batch below that. Sample n belongs to
 * group n mod (N / groupSize).
 */
export function minibatchStddev(x: tf.Tensor4D, groupSize = 4): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let g = Math.min(groupSize, n);
  while (n % g !== 0) g--;
  const m = n / g;
  const grouped = tf.reshape(x, [g, m, h, w, c]);
  const centred = tf.sub(grouped, tf.mean(grouped, 0, true));
  const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), 0), epsilon));
  const perGroup = tf.reshape(tf.mean(std, [1, 2, 3]), [1, m, 1, 1, 1]);
  const feature = tf.reshape(tf.add(perGroup, tf.zeros([g, m, h, w, 1])), [n, h, w, 1]);
  return tf.concat([x, feature as tf.Tensor4D], 3);
}

/**
 * Adaptive instance normalization (Huang & Belongie 2017; StyleGAN, Karras et al. 2019, eq. 1):
 * each feature map is normalized to zero mean and unit variance over its pixels, then scaled and
 * shifted by a style y = (y_s, y_b) that a learned affine map takes from w. y_s starts at 1.
 */
export class AdaptiveInstanceNorm {
  private readonly toScale: EqualizedDense;
  private readonly toBias: EqualizedDense;

  constructor(store: VariableStore, name: string, styleDim: number, channels: number) {
    this.toScale = new EqualizedDense(store, `${name}/style_scale`, styleDim, channels, {
      gain: 1,
      biasInit: 1,
    });
    this.toBias = new EqualizedDense(store, `${name}/style_bias`, styleDim, channels, { gain: 1 });
  }

  apply(x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D {
    const [n, , , c] = x.shape;
    const { mean, variance } = tf.moments(x, [1, 2], true);
    const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
    const scale = tf.reshape(this.toScale.apply(w), [n, 1, 1, c]);
    const bias = tf.reshape(this.toBias.apply(w), [n, 1, 1, c]);
    return tf.add(tf.mul(normalized, scale), bias);
  }
}
