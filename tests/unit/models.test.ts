import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/gan/engine.js';
import { buildDiscriminator, buildGan, buildGenerator } from '../../src/gan/models/index.js';
import { allVariables, LayersNetwork, type Network } from '../../src/gan/models/network.js';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';

const mnistShape = { height: 28, width: 28, channels: 1 };

function configFor(model: TrainingConfig['model'], seed = 3): TrainingConfig {
  return { ...trainingDefaults, model, dataset: 'mnist', seed };
}

function weightValues(network: Network): Float32Array[] {
  return allVariables(network).map(({ variable }) =>
    Float32Array.from(variable.dataSync() as Float32Array),
  );
}

function shapesByName(network: Network): Record<string, number[]> {
  return Object.fromEntries(
    allVariables(network).map(({ name, variable }) => [name, variable.shape]),
  );
}

/** The tf.layers model behind a network built by tf.layers. */
function layersOf(network: Network): tf.layers.Layer[] {
  expect(network).toBeInstanceOf(LayersNetwork);
  return (network as LayersNetwork).model.layers;
}

beforeAll(async () => {
  // Convolutions run on wasm with the project's gradient kernels, never on the cpu backend.
  await initEngine('wasm');
});

describe.each(['gan', 'dcgan', 'wgan', 'wgan-gp'] as const)('%s networks', (model) => {
  it('map z to 28x28x1 images in [-1, 1] and images to one logit each', () => {
    const { generator, discriminator } = buildGan(configFor(model), mnistShape, { width: 8 });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const z = tf.randomNormal([5, trainingDefaults.latentDim], 0, 1, 'float32', 1);
      const images = generator.apply(z, { training: false }) as tf.Tensor;
      expect(images.shape).toEqual([5, 28, 28, 1]);
      expect(images.min().dataSync()[0]).toBeGreaterThanOrEqual(-1);
      expect(images.max().dataSync()[0]).toBeLessThanOrEqual(1);
      const logits = discriminator.apply(images, { training: false }) as tf.Tensor;
      expect(logits.shape).toEqual([5, 1]);
    });
    expect(tf.memory().numTensors).toBe(before);
    // D ends in a logit: the sigmoid belongs to the loss (losses.ts), never to the model.
    if (discriminator instanceof LayersNetwork) {
      expect(layersOf(discriminator).at(-1)?.getConfig().activation).toBe('linear');
    }
    generator.dispose();
    discriminator.dispose();
  });

  it('draws the same initial weights from the same seed and different ones from another', () => {
    const a = buildGenerator(configFor(model, 3), mnistShape, { width: 8 });
    const b = buildGenerator(configFor(model, 3), mnistShape, { width: 8 });
    const c = buildGenerator(configFor(model, 4), mnistShape, { width: 8 });
    const d = buildDiscriminator(configFor(model, 3), mnistShape, { width: 8 });
    const e = buildDiscriminator(configFor(model, 3), mnistShape, { width: 8 });
    expect(weightValues(e)).toEqual(weightValues(d));
    expect(weightValues(b)).toEqual(weightValues(a));
    expect(weightValues(c)[0]).not.toEqual(weightValues(a)[0]);
    [a, b, c, d, e].forEach((m) => m.dispose());
  });
});

describe('architectures', () => {
  it('DCGAN defaults to the paper-like 128/64 channels with 5x5 kernels', () => {
    const { generator, discriminator } = buildGan(configFor('dcgan'), mnistShape);
    expect(shapesByName(generator)).toMatchObject({
      'g_project/kernel': [100, 7 * 7 * 128],
      'g_deconv1/kernel': [5, 5, 64, 128],
      'g_deconv2/kernel': [5, 5, 1, 64],
      'g_bn1/moving_mean': [64],
    });
    expect(shapesByName(discriminator)).toMatchObject({
      'd_conv1/kernel': [5, 5, 1, 64],
      'd_conv2/kernel': [5, 5, 64, 128],
      'd_bn2/gamma': [128],
      'd_logit/kernel': [7 * 7 * 128, 1],
    });
    // No batch norm on D's input layer (Radford et al. 2015, section 3).
    expect(layersOf(discriminator).map((l) => l.getClassName())).toEqual([
      'Conv2D',
      'LeakyReLU',
      'Conv2D',
      'BatchNormalization',
      'LeakyReLU',
      'Flatten',
      'Dense',
    ]);
    generator.dispose();
    discriminator.dispose();
  });

  it('scales the MLP hidden layers with width', () => {
    const { generator, discriminator } = buildGan(configFor('gan'), mnistShape, { width: 8 });
    expect(
      layersOf(generator)
        .filter((l) => l.getClassName() === 'Dense')
        .map((l) => l.getConfig().units),
    ).toEqual([8, 16, 32, 784]);
    expect(
      layersOf(discriminator)
        .filter((l) => l.getClassName() === 'Dense')
        .map((l) => l.getConfig().units),
    ).toEqual([32, 16, 8, 1]);
    generator.dispose();
    discriminator.dispose();
  });

  it('rejects an unknown model and DCGAN images whose sides are not multiples of 4', () => {
    const unknown = { ...configFor('gan'), model: 'biggan' } as unknown as TrainingConfig;
    expect(() => buildGenerator(unknown, mnistShape)).toThrow(
      expect.objectContaining({ code: 'GANFORGE_ERR_UNKNOWN_MODEL' }),
    );
    expect(() =>
      buildDiscriminator(configFor('dcgan'), { height: 30, width: 30, channels: 1 }),
    ).toThrow(expect.objectContaining({ code: 'GANFORGE_ERR_INVALID_CONFIG' }));
    expect(() => buildGenerator(configFor('dcgan'), mnistShape, { width: 0 })).toThrow(
      expect.objectContaining({ code: 'GANFORGE_ERR_INVALID_CONFIG' }),
    );
  });
});
