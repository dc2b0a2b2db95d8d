/**
 * The WGAN-GP critic: the DCGAN discriminator's shape (two 5x5 stride-2 convolutions, width and
 * 2x width channels, LeakyReLU(0.2), one linear output) without batch norm, which would make each
 * sample's score depend on the rest of the batch and the per-sample gradient penalty meaningless
 * (Gulrajani et al. 2017, section 4; their MNIST critic has no normalisation at all). Written as
 * tensor functions rather than tf.layers so that the whole forward pass is twice differentiable
 * (see activations.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../../data/mnist.js';
import { leakyRelu } from '../activations.js';
import { deriveSeed } from '../random.js';
import type { ApplyOptions, NamedVariable, Network } from './network.js';

const kernelSize = 5;
const leakySlope = 0.2;

class ConvCritic implements Network {
  readonly name = 'discriminator';
  readonly trainableVariables: readonly NamedVariable[];
  readonly stateVariables: readonly NamedVariable[] = [];
  private readonly weights: Map<string, tf.Variable>;

  constructor(
    private readonly image: ImageShape,
    width: number,
    seed: number,
  ) {
    const flat = Math.ceil(image.height / 4) * Math.ceil(image.width / 4) * 2 * width;
    // Weights from N(0, 0.02) as in the DCGAN discriminator (Radford et al. 2015), each layer
    // from its own seeded stream; biases start at zero.
    const shapes: [string, number[], boolean][] = [
      ['d_conv1/kernel', [kernelSize, kernelSize, image.channels, width], true],
      ['d_conv1/bias', [width], false],
      ['d_conv2/kernel', [kernelSize, kernelSize, width, 2 * width], true],
      ['d_conv2/bias', [2 * width], false],
      ['d_logit/kernel', [flat, 1], true],
      ['d_logit/bias', [1], false],
    ];
    this.trainableVariables = shapes.map(([name, shape, random]) => ({
      name,
      variable: tf.tidy(() =>
        tf.variable(
          random
            ? tf.randomNormal(shape, 0, 0.02, 'float32', deriveSeed(seed, name))
            : tf.zeros(shape),
          true,
        ),
      ),
    }));
    this.weights = new Map(this.trainableVariables.map((v) => [v.name, v.variable]));
  }

  private weight(name: string): tf.Tensor {
    return this.weights.get(name) as tf.Tensor;
  }

  apply(input: tf.Tensor, _options: ApplyOptions): tf.Tensor {
    return tf.tidy(() => {
      let h = input as tf.Tensor4D;
      for (const layer of ['d_conv1', 'd_conv2']) {
        const kernel = this.weight(`${layer}/kernel`) as tf.Tensor4D;
        h = leakyRelu(
          tf.add(tf.conv2d(h, kernel, 2, 'same'), this.weight(`${layer}/bias`)),
          leakySlope,
        ) as tf.Tensor4D;
      }
      const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
      return tf.add(
        tf.matMul(flat, this.weight('d_logit/kernel') as tf.Tensor2D),
        this.weight('d_logit/bias'),
      );
    });
  }

  dispose(): void {
    tf.dispose(this.trainableVariables.map((v) => v.variable));
  }
}

export function buildConvCritic(image: ImageShape, width: number, seed: number): Network {
  return new ConvCritic(image, width, seed);
}
