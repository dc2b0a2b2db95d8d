/**
 * The activation of Progressive GAN and the StyleGANs: LeakyReLU at their slope, in the twice
 * differentiable form of ../activations.ts, since the R1 penalty differentiates D's gradient.
 */
import type * as tf from '@tensorflow/tfjs';
import { leakyRelu } from '../activations.js';

/** The slope for negative inputs used throughout Progressive GAN and StyleGAN (Karras et al.). */
export const leakySlope = 0.2;

export function twiceDifferentiableLeakyRelu<T extends tf.Tensor>(x: T, slope = leakySlope): T {
  return leakyRelu(x, slope) as T;
}
