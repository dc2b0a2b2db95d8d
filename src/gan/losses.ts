/**
 * GAN losses computed from discriminator logits, never from probabilities. Taking log(sigmoid(x))
 * overflows to -Infinity once a confident discriminator saturates the sigmoid, and clipping the
 * probability instead keeps the number finite but wrong and zeroes the generator's gradient
 * exactly where it needs it most (fake logits far below 0).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Per-element binary cross-entropy of `logits` against a constant `label` in [0, 1], in the stable
 * form max(x, 0) - x*z + log(1 + e^-|x|) (Goodfellow et al. 2014's objective written on logits; the
 * same identity as TensorFlow's sigmoid_cross_entropy_with_logits). e^-|x| is at most 1, so nothing
 * overflows for any finite logit.
 */
export function sigmoidCrossEntropyFromLogits(logits: tf.Tensor, label: number): tf.Tensor {
  return tf.tidy(() =>
    tf
      .relu(logits)
      .sub(logits.mul(label))
      .add(tf.log1p(tf.exp(tf.neg(tf.abs(logits))))),
  );
}

/**
 * Discriminator loss: mean BCE(D(x), 1) + mean BCE(D(G(z)), 0), the sum of the two means (not
 * their average), as in Goodfellow et al. 2014, eq. 1 with the sign flipped for minimisation.
 */
export function discriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  return tf.tidy(() =>
    tf.add(
      sigmoidCrossEntropyFromLogits(realLogits, 1).mean(),
      sigmoidCrossEntropyFromLogits(fakeLogits, 0).mean(),
    ),
  ) as tf.Scalar;
}

/**
 * Non-saturating generator loss: mean BCE(D(G(z)), 1) = mean softplus(-D(G(z))), i.e. maximise
 * log D(G(z)) instead of minimising log(1 - D(G(z))) (Goodfellow et al. 2014, section 3), which
 * keeps strong gradients early in training when D rejects every sample.
 */
export function generatorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => sigmoidCrossEntropyFromLogits(fakeLogits, 1).mean() as tf.Scalar);
}
