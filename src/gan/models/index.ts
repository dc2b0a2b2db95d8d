/**
 * The model zoo: picks the generator and discriminator for a run's `model` name. Both are built
 * deterministically from the run seed (each network draws from its own derived stream), so a
 * config rebuilds the same initial weights on any machine. Every network is a `Network`
 * (network.ts), whatever builds it.
 *
 * - `gan`: the MLP GAN (mlp-gan.ts).
 * - `dcgan`, `wgan`: DCGAN's generator and discriminator (dcgan.ts); the WGAN critic is the DCGAN
 *   discriminator with batch norm, as in Arjovsky et al. 2017's DCGAN experiments.
 * - `wgan-gp`: DCGAN's generator and the same critic without batch norm (conv-critic.ts).
 */
import type { ImageShape } from '../../data/mnist.js';
import { GanforgeError } from '../../errors.js';
import { deriveSeed } from '../random.js';
import type { TrainingConfig } from '../training-config.js';
import { buildConvCritic } from './conv-critic.js';
import { buildDcganDiscriminator, buildDcganGenerator, dcganDefaultWidth } from './dcgan.js';
import { buildMlpDiscriminator, buildMlpGenerator, mlpDefaultWidth } from './mlp-gan.js';
import { layersNetwork, type Network } from './network.js';

export interface ModelOptions {
  /**
   * Scales every hidden layer: MLP hidden units are width, 2x and 4x; DCGAN-shaped channels are
   * width and 2x. Default: 256 for 'gan', 64 for the convolutional models (the paper-like 64/128).
   */
  width?: number;
}

export interface GanNetworks {
  generator: Network;
  discriminator: Network;
}

type ModelConfig = Pick<TrainingConfig, 'model' | 'seed' | 'latentDim'>;

/** The width a model name uses when none is given; checkpoints record the resolved value. */
export function resolveModelWidth(model: string, options: ModelOptions = {}): number {
  const width = options.width ?? (model === 'gan' ? mlpDefaultWidth : dcganDefaultWidth);
  if (!Number.isInteger(width) || width < 1) {
    throw new GanforgeError(
      'GANFORGE_ERR_INVALID_CONFIG',
      `model width must be a positive integer`,
      {
        field: 'width',
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
): Network {
  const width = resolveModelWidth(config.model, options);
  const seed = deriveSeed(config.seed, 'generator-init');
  switch (config.model) {
    case 'gan':
      return layersNetwork(buildMlpGenerator(config.latentDim, imageShape, width, seed));
    case 'dcgan':
    case 'wgan':
    case 'wgan-gp':
      return layersNetwork(buildDcganGenerator(config.latentDim, imageShape, width, seed));
    default:
      throw unknownModel(config.model);
  }
}

export function buildDiscriminator(
  config: ModelConfig,
  imageShape: ImageShape,
  options: ModelOptions = {},
): Network {
  const width = resolveModelWidth(config.model, options);
  const seed = deriveSeed(config.seed, 'discriminator-init');
  switch (config.model) {
    case 'gan':
      return layersNetwork(buildMlpDiscriminator(imageShape, width, seed));
    case 'dcgan':
    case 'wgan':
      return layersNetwork(buildDcganDiscriminator(imageShape, width, seed));
    case 'wgan-gp':
      return buildConvCritic(imageShape, width, seed);
    default:
      throw unknownModel(config.model);
  }
}

export function buildGan(
  config: ModelConfig,
  imageShape: ImageShape,
  options: ModelOptions = {},
): GanNetworks {
  const generator = buildGenerator(config, imageShape, options);
  try {
    return { generator, discriminator: buildDiscriminator(config, imageShape, options) };
  } catch (err) {
    generator.dispose();
    throw err;
  }
}
