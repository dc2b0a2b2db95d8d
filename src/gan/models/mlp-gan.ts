/**
 * The fully connected GAN of Goodfellow et al. 2014 ("Generative Adversarial Nets"), in the form
 * most reimplementations use: LeakyReLU hidden layers instead of the paper's maxout units, a tanh
 * output to match images in [-1, 1], and a discriminator that ends in a logit (the sigmoid lives in
 * the loss, see losses.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../../data/mnist.js';
import { deriveSeed } from '../random.js';

/** Hidden units of the narrowest hidden layer; the others are 2x and 4x this. */
export const mlpDefaultWidth = 256;

/** LeakyReLU slope for negative inputs, as in Radford et al. 2015 (also common for MLP GANs). */
const leakySlope = 0.2;

function seededDense(
  name: string,
  units: number,
  seed: number,
  extra: Partial<Parameters<typeof tf.layers.dense>[0]> = {},
): tf.layers.Layer {
  // Glorot & Bengio 2010 uniform init, seeded per layer so a run seed fixes every weight.
  return tf.layers.dense({
    name,
    units,
    kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, name) }),
    ...extra,
  });
}

export function buildMlpGenerator(
  latentDim: number,
  image: ImageShape,
  width: number,
  seed: number,
): tf.Sequential {
  const model = tf.sequential({ name: 'generator' });
  const hidden = [width, 2 * width, 4 * width];
  hidden.forEach((units, i) => {
    const first = i === 0 ? { inputShape: [latentDim] } : {};
    model.add(seededDense(`g_dense${i + 1}`, units, seed, first));
    model.add(tf.layers.leakyReLU({ name: `g_lrelu${i + 1}`, alpha: leakySlope }));
  });
  const pixels = image.height * image.width * image.channels;
  model.add(seededDense('g_out', pixels, seed, { activation: 'tanh' }));
  model.add(
    tf.layers.reshape({
      name: 'g_image',
      targetShape: [image.height, image.width, image.channels],
    }),
  );
  return model;
}

export function buildMlpDiscriminator(
  image: ImageShape,
  width: number,
  seed: number,
): tf.Sequential {
  const model = tf.sequential({ name: 'discriminator' });
  model.add(
    tf.layers.flatten({
      name: 'd_flatten',
      inputShape: [image.height, image.width, image.channels],
    }),
  );
  [4 * width, 2 * width, width].forEach((units, i) => {
    model.add(seededDense(`d_dense${i + 1}`, units, seed));
    model.add(tf.layers.leakyReLU({ name: `d_lrelu${i + 1}`, alpha: leakySlope }));
  });
  model.add(seededDense('d_logit', 1, seed));
  return model;
}
