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
 * - `progan`: Progressive GAN's growing generator and discriminator (progressive-gan.ts).
 * - `stylegan`: the style-based generator and Progressive GAN's discriminator at the final
 *   resolution (stylegan.ts); `stylegan2`: the weight-demodulated generator and the residual
 *   discriminator (stylegan2.ts). These three need a power-of-two image side of 8 or more.
 */
import type { ImageShape } from '../../data/mnist.js';
import { GanforgeError } from '../../errors.js';
import { deriveSeed, type Random } from '../random.js';
import type { ModelName, TrainingConfig } from '../training-config.js';
import { buildConvCritic } from './conv-critic.js';
import { buildDcganDiscriminator, buildDcganGenerator, dcganDefaultWidth } from './dcgan.js';
import { buildMlpDiscriminator, buildMlpGenerator, mlpDefaultWidth } from './mlp-gan.js';
import { layersNetwork, type Network } from './network.js';
import {
  buildProgressiveDiscriminator,
  buildProgressiveGenerator,
  progressiveGanDefaultWidth,
} from './progressive-gan.js';
import {
  StyleBasedGenerator,
  buildStyleGanDiscriminator,
  buildStyleGanGenerator,
  styleGanDefaultWidth,
} from './stylegan.js';
import {
  buildStyleGan2Discriminator,
  buildStyleGan2Generator,
  styleGan2DefaultWidth,
} from './stylegan2.js';

export interface ModelOptions {
  /**
   * Scales every hidden layer: MLP hidden units are width, 2x and 4x; DCGAN-shaped channels are
   * width and 2x; Progressive GAN and StyleGAN channels are width at the final resolution, up to
   * 4x at coarser ones. Default: 256 for 'gan', 64 for DCGAN-shaped models (the paper-like
   * 64/128), 16 for progan, stylegan and stylegan2.
   */
  width?: number;
}

export interface GanNetworks {
  generator: Network;
  discriminator: Network;
}

type ModelConfig = Pick<TrainingConfig, 'model' | 'seed' | 'latentDim'>;

const defaultWidths: Record<string, number> = {
  gan: mlpDefaultWidth,
  progan: progressiveGanDefaultWidth,
  stylegan: styleGanDefaultWidth,
  stylegan2: styleGan2DefaultWidth,
};

/** The width a model name uses when none is given; checkpoints record the resolved value. */
export function resolveModelWidth(model: string, options: ModelOptions = {}): number {
  const width = options.width ?? defaultWidths[model] ?? dcganDefaultWidth;
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

/** The models whose networks double a 4x4 map up to the image side (progressive-gan.ts). */
export function growsFromFourByFour(model: ModelName): boolean {
  return model === 'progan' || model === 'stylegan' || model === 'stylegan2';
}

/**
 * The image side a run of `model` trains at when its config names none: the data's larger side,
 * rounded up to a power of two of 8 or more for the models that need one (28 -> 32).
 */
export function defaultImageSide(model: ModelName, height: number, width: number): number {
  const side = Math.max(height, width);
  return growsFromFourByFour(model) ? Math.max(8, 2 ** Math.ceil(Math.log2(side))) : side;
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
    case 'progan':
      return buildProgressiveGenerator(config.latentDim, imageShape, width, seed);
    case 'stylegan':
      return buildStyleGanGenerator(config.latentDim, imageShape, width, seed);
    case 'stylegan2':
      return buildStyleGan2Generator(config.latentDim, imageShape, width, seed);
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
    case 'progan':
      return buildProgressiveDiscriminator(imageShape, width, seed);
    case 'stylegan':
      return buildStyleGanDiscriminator(imageShape, width, seed);
    case 'stylegan2':
      return buildStyleGan2Discriminator(imageShape, width, seed);
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

/** A generator that draws its own noise inputs (StyleGAN, StyleGAN2); checkpoints keep its stream. */
export function generatorRandom(network: Network): Random | null {
  return network instanceof StyleBasedGenerator ? network.random : null;
}
