/**
 * The benchmark DCGAN for 28x28x1 images (Radford et al. 2016, sized for MNIST), written with
 * plain tf ops and variables so the bench measures the engine, not any model code of ours.
 * G: dense 100 -> 7*7*128, BN, ReLU, 5x5/2 transposed conv -> 14x14x64, BN, ReLU,
 *    5x5/2 transposed conv -> 28x28x1, tanh.
 * D: 5x5/2 conv 64, LeakyReLU 0.2, 5x5/2 conv 128, LeakyReLU 0.2, flatten, dense -> 1 logit.
 * Loss: non-saturating GAN loss (Goodfellow et al. 2014, sec. 3) as BCE from logits.
 * Adam, lr 2e-4, beta1 0.5; one D update then one G update per step.
 */
import * as tf from '@tensorflow/tfjs';

export const batchSize = 64;
export const noiseSize = 100;

const init = (shape: number[], seed: number) =>
  tf.variable(tf.randomNormal(shape, 0, 0.02, 'float32', seed));
const zeros = (shape: number[]) => tf.variable(tf.zeros(shape));
const ones = (shape: number[]) => tf.variable(tf.ones(shape));

/** Batch normalization with the batch's own statistics (training mode; Ioffe & Szegedy 2015). */
function batchNorm(x: tf.Tensor, gamma: tf.Variable, beta: tf.Variable): tf.Tensor {
  const axes = x.rank === 4 ? [0, 1, 2] : [0];
  const { mean, variance } = tf.moments(x, axes);
  return tf.batchNorm(x, mean, variance, beta, gamma, 1e-5);
}

export class BenchDcgan {
  private readonly g = {
    dense: init([noiseSize, 7 * 7 * 128], 1),
    denseBias: zeros([7 * 7 * 128]),
    bn0Gamma: ones([7 * 7 * 128]),
    bn0Beta: zeros([7 * 7 * 128]),
    up1: init([5, 5, 64, 128], 2),
    bn1Gamma: ones([64]),
    bn1Beta: zeros([64]),
    up2: init([5, 5, 1, 64], 3),
    up2Bias: zeros([1]),
  };

  private readonly d = {
    conv1: init([5, 5, 1, 64], 4),
    conv1Bias: zeros([64]),
    conv2: init([5, 5, 64, 128], 5),
    conv2Bias: zeros([128]),
    dense: init([7 * 7 * 128, 1], 6),
    denseBias: zeros([1]),
  };

  private readonly gOptimizer = tf.train.adam(2e-4, 0.5);
  private readonly dOptimizer = tf.train.adam(2e-4, 0.5);

  generate(z: tf.Tensor2D): tf.Tensor4D {
    const g = this.g;
    const n = z.shape[0];
    const h0 = tf.add(tf.matMul(z, g.dense), g.denseBias);
    const a0 = tf.relu(batchNorm(h0, g.bn0Gamma, g.bn0Beta)).reshape([n, 7, 7, 128]);
    const h1 = tf.conv2dTranspose(
      a0 as tf.Tensor4D,
      g.up1 as tf.Tensor4D,
      [n, 14, 14, 64],
      2,
      'same',
    );
    const a1 = tf.relu(batchNorm(h1, g.bn1Gamma, g.bn1Beta)) as tf.Tensor4D;
    const h2 = tf.conv2dTranspose(a1, g.up2 as tf.Tensor4D, [n, 28, 28, 1], 2, 'same');
    return tf.tanh(tf.add(h2, g.up2Bias)) as tf.Tensor4D;
  }

  discriminate(images: tf.Tensor4D): tf.Tensor2D {
    const d = this.d;
    const n = images.shape[0];
    const c1 = tf.conv2d(images, d.conv1 as tf.Tensor4D, 2, 'same');
    const a1 = tf.leakyRelu(tf.add(c1, d.conv1Bias), 0.2) as tf.Tensor4D;
    const c2 = tf.conv2d(a1, d.conv2 as tf.Tensor4D, 2, 'same');
    const a2 = tf.leakyRelu(tf.add(c2, d.conv2Bias), 0.2);
    return tf.add(tf.matMul(a2.reshape([n, -1]), d.dense), d.denseBias);
  }

  /** One D update on `real` and G(z), then one G update; returns [dLoss, gLoss]. */
  step(real: tf.Tensor4D): [number, number] {
    const z = tf.randomNormal([real.shape[0], noiseSize]) as tf.Tensor2D;
    const fake = tf.tidy(() => this.generate(z));
    const dLoss = this.dOptimizer.minimize(
      () => {
        const realLogits = this.discriminate(real);
        const fakeLogits = this.discriminate(fake);
        return tf.add(
          tf.losses.sigmoidCrossEntropy(tf.onesLike(realLogits), realLogits),
          tf.losses.sigmoidCrossEntropy(tf.zerosLike(fakeLogits), fakeLogits),
        ) as tf.Scalar;
      },
      true,
      Object.values(this.d),
    );
    const gLoss = this.gOptimizer.minimize(
      () => {
        const logits = this.discriminate(this.generate(z));
        return tf.losses.sigmoidCrossEntropy(tf.onesLike(logits), logits) as tf.Scalar;
      },
      true,
      Object.values(this.g),
    );
    const losses = [dLoss, gLoss].map((loss) => loss?.dataSync()[0] ?? NaN);
    tf.dispose([z, fake, ...[dLoss, gLoss].filter((loss) => loss !== null)]);
    return [losses[0], losses[1]];
  }
}
