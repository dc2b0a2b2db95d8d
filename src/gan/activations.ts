/**
 * Activations whose gradients are themselves differentiable, for losses that differentiate a
 * gradient (the WGAN-GP penalty, Gulrajani et al. 2017). TF.js's own LeakyRelu gradient selects
 * with `Greater`, which has no gradient, so the second-order tape breaks on every backend.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * LeakyReLU (Maas et al. 2013) as relu(x) - alpha * relu(-x): exactly x for x > 0 and alpha * x
 * below, the same values as tf.leakyRelu. Relu's gradient is dy * step(x), and Step's own gradient
 * is zero, so the gradient dy * (x > 0 ? 1 : alpha) can be differentiated again.
 */
export function leakyRelu(x: tf.Tensor, alpha: number): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.relu(x), tf.mul(tf.relu(tf.neg(x)), alpha)));
}
