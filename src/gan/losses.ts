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

/**
 * Critic loss of the Wasserstein GAN (Arjovsky et al. 2017, Algorithm 1), for minimisation:
 * mean D(G(z)) - mean D(x), the negated estimate of the Wasserstein-1 distance.
 */
export function wassersteinCriticLoss(realScores: tf.Tensor, fakeScores: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sub(fakeScores.mean(), realScores.mean()) as tf.Scalar);
}

/** Generator loss of the Wasserstein GAN: -mean D(G(z)). */
export function wassersteinGeneratorLoss(fakeScores: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.neg(fakeScores.mean()) as tf.Scalar);
}

/**
 * Keeps sqrt differentiable at a zero gradient (a critic constant around x_hat), where the
 * penalty's own gradient would be 0/0; far below any float32 squared norm that matters.
 */
const normEpsilon = 1e-12;

/**
 * lambda * mean_i (||g_i||_2 - 1)^2 for a batch of gradients g, each sample's norm taken over all
 * its pixels and channels at once (Gulrajani et al. 2017, eq. 3). A norm over the channel axis
 * alone, a common mistake, penalises every pixel separately.
 */
export function penaltyFromGradients(gradients: tf.Tensor, lambda: number): tf.Scalar {
  return tf.tidy(() => {
    const perSample = gradients.reshape([gradients.shape[0], -1]);
    const norms = tf.sqrt(tf.add(tf.sum(tf.square(perSample), 1), normEpsilon));
    return tf.mul(tf.mean(tf.square(tf.sub(norms, 1))), lambda) as tf.Scalar;
  });
}

/**
 * x_hat = alpha * real + (1 - alpha) * fake with one alpha per sample ([N]), broadcast over its
 * pixels and channels (Gulrajani et al. 2017, Algorithm 1); an alpha per element would sample
 * points off the lines between real and fake samples.
 */
export function interpolate(real: tf.Tensor, fake: tf.Tensor, alpha: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    const a = alpha.reshape([alpha.shape[0], ...real.shape.slice(1).map(() => 1)]);
    return tf.add(tf.mul(a, real), tf.mul(tf.sub(1, a), fake));
  });
}

/**
 * The WGAN-GP gradient penalty at x_hat = interpolate(real, fake, alpha), alpha drawn from
 * U[0, 1]. Differentiable with respect to the critic's variables when `critic` is twice
 * differentiable (see activations.ts).
 */
export function gradientPenalty(
  critic: (images: tf.Tensor) => tf.Tensor,
  real: tf.Tensor,
  fake: tf.Tensor,
  alpha: tf.Tensor1D,
  lambda: number,
): tf.Scalar {
  return tf.tidy(() => {
    const interpolated = interpolate(real, fake, alpha);
    // D's scores are independent per sample, so the gradient of their sum is each one's own.
    const gradients = tf.grad((x: tf.Tensor) => tf.sum(critic(x)))(interpolated);
    return penaltyFromGradients(gradients, lambda);
  });
}
