/**
 * The model zoo: picks the generator and discriminator for a run's `model` name. Both are built
 * deterministically from the run seed (each network draws from its own derived stream), so a
 * config rebuilds the same initial weights on any machine.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../../data/mnist.js';
import { GanforgeError } from '../../errors.js';
import { deriveSeed } from '../random.js';
import type { TrainingConfig } from '../training-config.js';
import { buildDcganDiscriminator, buildDcganGenerator, dcganDefaultWidth } from './dcgan.js';
import { buildMlpDiscriminator, buildMlpGenerator, mlpDefaultWidth } from './mlp-gan.js';

export interface ModelOptions {
  /**
   * Scales every hidden layer: MLP hidden units are width, 2x and 4x; DCGAN channels are width
   * and 2x. Default: 256 for 'gan', 64 for 'dcgan' (the paper-like 64/128 channels).
   */
  width?: number;
}

export interface GanNetworks {
  generator: tf.LayersModel;
  discriminator: tf.LayersModel;
}

type ModelConfig = Pick<TrainingConfig, 'model' | 'seed' | 'latentDim'>;

/** The width a model name uses when none is given; checkpoints record the resolved value. */
export function resolveModelWidth(model: string, options: ModelOptions = {}): number {
  const width = options.width ?? (model === 'dcgan' ? dcganDefaultWidth : mlpDefaultWidth);
  if (!Number.isInteger(width) || width < 1) {
    throw new GanforgeError(
      'GANFORGE_ERR_INVALID_CONFIG',
      `model width must be a positive integer`,
      {
        width,
      },
    );
  }
  return width;
}

function unknownModel(model: string): GanforgeError {
  return new GanforgeError('GANFORGE_ERR_UNKNOWN_MODEL', `unknown model '${model}'`, { model });
}

export function buildGenerator(
  config: ModelConfig,
  imageShape: ImageShape,
  options: ModelOptions = {},
): tf.LayersModel {
  const width = resolveModelWidth(config.model, options);
  const seed = deriveSeed(config.seed, 'generator-init');
  switch (config.model) {
    case 'gan':
      return buildMlpGenerator(config.latentDim, imageShape, width, seed);
    case 'dcgan':
      return buildDcganGenerator(config.latentDim, imageShape, width, seed);
    default:
      throw unknownModel(config.model);
  }
}

export function buildDiscriminator(
  config: ModelConfig,
  imageShape: ImageShape,
  options: ModelOptions = {},
): tf.LayersModel {
  const width = resolveModelWidth(config.model, options);
  const seed = deriveSeed(config.seed, 'discriminator-init');
  switch (config.model) {
    case 'gan':
      return buildMlpDiscriminator(imageShape, width, seed);
    case 'dcgan':
      return buildDcganDiscriminator(imageShape, width, seed);
    default:
      throw unknownModel(config.model);
  }
}

export function buildGan(
  config: ModelConfig,
  imageShape: ImageShape,
  options: ModelOptions = {},
): GanNetworks {
  return {
    generator: buildGenerator(config, imageShape, options),
    discriminator: buildDiscriminator(config, imageShape, options),
  };
}
