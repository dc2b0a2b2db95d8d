/**
 * R1 regularization (Mescheder et al. 2018, "Which Training Methods for GANs do actually
 * Converge?"): gamma/2 * E_x~data ||grad_x D(x)||^2, penalising D's gradient on real data
 * only. Its gradient with respect to D's weights is a second-order gradient, so every op in D
 * must have one (see layers/activations.ts and layers/resample.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Network } from './models/network.js';

/** StyleGAN2's lazy regularization interval for R1 (Karras et al. 2020, section 3.1). */
export const lazyR1Interval = 16;

/** gamma of StyleGAN on FFHQ and of StyleGAN2's configs at small resolutions. */
export const defaultR1Gamma = 10;

export interface R1Options {
  /** Default 10. */
  gamma?: number;
  /**
   * Steps between the R1 updates (lazy regularization, default 1 = every step). The penalty is
   * multiplied by the interval so its strength per step is unchanged.
   */
  interval?: number;
}

/**
 * gamma/2 * interval * mean over the batch of ||grad_x D(x)||^2. Call it inside the loss function
 * of D's optimizer, so the weights' gradient flows through the inner gradient.
 */
export function r1Penalty(
  discriminator: Network,
  real: tf.Tensor4D,
  options: R1Options = {},
): tf.Scalar {
  const { gamma = defaultR1Gamma, interval = 1 } = options;
  return tf.tidy(() => {
    const logitSum = (x: tf.Tensor) => tf.sum(discriminator.apply(x, { training: true }));
    const gradient = tf.grad(logitSum)(real);
    const squaredNorms = tf.sum(tf.square(gradient), [1, 2, 3]);
    return tf.mul(tf.mean(squaredNorms), (gamma / 2) * interval) as tf.Scalar;
  });
}
