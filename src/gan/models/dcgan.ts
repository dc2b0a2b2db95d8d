/**
 * DCGAN (Radford et al. 2015, "Unsupervised Representation Learning with Deep Convolutional
 * GANs"), sized for 28x28 digits: the generator projects z to a (H/4)x(W/4) feature map and doubles
 * it twice with 5x5 stride-2 transposed convolutions; the discriminator mirrors it with 5x5 stride-2
 * convolutions. Batch norm everywhere except the generator output and the discriminator input,
 * ReLU in G, LeakyReLU(0.2) in D, tanh output, weights drawn from N(0, 0.02) (section 4 of the
 * paper). D ends in a logit; the sigmoid lives in the loss.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../../data/mnist.js';
import { GanforgeError } from '../../errors.js';
import { deriveSeed } from '../random.js';

/** Channels of the finest feature map (G's last hidden layer, D's first conv); the other is 2x. */
export const dcganDefaultWidth = 64;

const kernelSize = 5;
const leakySlope = 0.2;
/** Matches PyTorch's BatchNorm default (0.1 of the new batch per update), so the moving
 * statistics used by eval-mode sampling catch up within a few dozen steps. */
const batchNormMomentum = 0.9;
const batchNormEpsilon = 1e-5;

function paperInit(seed: number, layer: string): ReturnType<typeof tf.initializers.randomNormal> {
  return tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: deriveSeed(seed, layer) });
}

function batchNorm(name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({
    name,
    momentum: batchNormMomentum,
    epsilon: batchNormEpsilon,
  });
}

function checkImageSize(image: ImageShape): void {
  if (image.height % 4 !== 0 || image.width % 4 !== 0) {
    throw new GanforgeError(
      'GANFORGE_ERR_INVALID_CONFIG',
      `DCGAN needs image sides divisible by 4, got ${image.height}x${image.width}`,
      { height: image.height, width: image.width },
    );
  }
}

export function buildDcganGenerator(
  latentDim: number,
  image: ImageShape,
  width: number,
  seed: number,
): tf.Sequential {
  checkImageSize(image);
  const [h, w] = [image.height / 4, image.width / 4];
  const model = tf.sequential({ name: 'generator' });
  // Biases before batch norm are redundant (BN's beta replaces them).
  model.add(
    tf.layers.dense({
      name: 'g_project',
      inputShape: [latentDim],
      units: h * w * 2 * width,
      useBias: false,
      kernelInitializer: paperInit(seed, 'g_project'),
    }),
  );
  model.add(batchNorm('g_bn0'));
  model.add(tf.layers.reLU({ name: 'g_relu0' }));
  model.add(tf.layers.reshape({ name: 'g_reshape', targetShape: [h, w, 2 * width] }));
  model.add(
    tf.layers.conv2dTranspose({
      name: 'g_deconv1',
      filters: width,
      kernelSize,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: paperInit(seed, 'g_deconv1'),
    }),
  );
  model.add(batchNorm('g_bn1'));
  model.add(tf.layers.reLU({ name: 'g_relu1' }));
  model.add(
    tf.layers.conv2dTranspose({
      name: 'g_deconv2',
      filters: image.channels,
      kernelSize,
      strides: 2,
      padding: 'same',
      activation: 'tanh',
      kernelInitializer: paperInit(seed, 'g_deconv2'),
    }),
  );
  return model;
}

export function buildDcganDiscriminator(
  image: ImageShape,
  width: number,
  seed: number,
): tf.Sequential {
  checkImageSize(image);
  const model = tf.sequential({ name: 'discriminator' });
  model.add(
    tf.layers.conv2d({
      name: 'd_conv1',
      inputShape: [image.height, image.width, image.channels],
      filters: width,
      kernelSize,
      strides: 2,
      padding: 'same',
      kernelInitializer: paperInit(seed, 'd_conv1'),
    }),
  );
  model.add(tf.layers.leakyReLU({ name: 'd_lrelu1', alpha: leakySlope }));
  model.add(
    tf.layers.conv2d({
      name: 'd_conv2',
      filters: 2 * width,
      kernelSize,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: paperInit(seed, 'd_conv2'),
    }),
  );
  model.add(batchNorm('d_bn2'));
  model.add(tf.layers.leakyReLU({ name: 'd_lrelu2', alpha: leakySlope }));
  model.add(tf.layers.flatten({ name: 'd_flatten' }));
  model.add(
    tf.layers.dense({ name: 'd_logit', units: 1, kernelInitializer: paperInit(seed, 'd_logit') }),
  );
  return model;
}
