/**
 * LeakyReLU written as x * step(x, slope). tfjs's own LeakyReLU differentiates through `Greater`,
 * which has no gradient, so a gradient of a gradient (R1, gradient penalties) fails through it.
 * Here the first derivative is dy * step(x, slope) and step's own gradient is zero, which is the
 * true second derivative away from 0.
 */
import * as tf from '@tensorflow/tfjs';

/** The slope for negative inputs used throughout Progressive GAN and StyleGAN (Karras et al.). */
export const leakySlope = 0.2;

export function twiceDifferentiableLeakyRelu<T extends tf.Tensor>(x: T, slope = leakySlope): T {
  return tf.mul(x, tf.step(x, slope));
}
