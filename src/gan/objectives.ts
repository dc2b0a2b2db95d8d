/**
 * What a model name means for training, apart from its networks: the loss, how many critic
 * updates come before each generator update, weight clipping or a gradient penalty, and which
 * optimizer with which defaults (each paper's own).
 *
 * - `gan`, `dcgan`: the non-saturating GAN loss (Goodfellow et al. 2014) with Adam lr 2e-4,
 *   beta1 0.5 (Radford et al. 2015), one D update per G update.
 * - `wgan`: the Wasserstein loss with weight clipping (Arjovsky et al. 2017, Algorithm 1):
 *   RMSProp lr 5e-5, c = 0.01, n_critic = 5.
 * - `wgan-gp`: the Wasserstein loss with a gradient penalty (Gulrajani et al. 2017, Algorithm 1):
 *   lambda = 10, Adam lr 1e-4, beta1 0, beta2 0.9, n_critic = 5.
 * - `progan`, `stylegan`, `stylegan2`: the non-saturating logistic loss, as the modules of their
 *   networks state, with Adam lr 1e-3, beta1 0, beta2 0.99 (Karras et al. 2018, 2019, 2020).
 *   `progan` grows from 4x4 by `progressiveSchedule` (stableSteps and fadeSteps per resolution);
 *   `stylegan` adds R1 with gamma 10 at every D update (Karras et al. 2019, appendix C),
 *   `stylegan2` the same lazily, every 16 D updates (Karras et al. 2020, section 3.1).
 *
 * Every model also keeps an exponential moving average of G's weights, which samples come from
 * (Yazici et al. 2019; Karras et al. 2018 use decay 0.999).
 */
import { defaultR1Gamma, lazyR1Interval } from './penalties.js';
import type { ModelName, TrainingConfig } from './training-config.js';

export type OptimizerSpec =
  | { kind: 'adam'; learningRate: number; beta1: number; beta2: number }
  | { kind: 'rmsprop'; learningRate: number };

export interface Objective {
  loss: 'non-saturating' | 'wasserstein';
  /** Discriminator (critic) updates per generator update. */
  nCritic: number;
  /** Critic weights are clipped to [-clipValue, clipValue] after every critic update. */
  clipValue: number | null;
  /** lambda of the gradient penalty; null for none. */
  gradientPenalty: number | null;
  optimizer: OptimizerSpec;
  /** 0: no moving average, samples come from G itself. */
  emaDecay: number;
  /** R1 on real images (Mescheder et al. 2018), added every `interval` D updates; null for none. */
  r1: { gamma: number; interval: number } | null;
  /** Progressive growing: steps per stable phase and per fade-in; null for a fixed resolution. */
  progressive: { stableSteps: number; fadeSteps: number } | null;
}

/** The config keys whose meaning and default depend on the model. */
export type ModelSettings = Required<
  Pick<TrainingConfig, 'learningRate' | 'nCritic' | 'emaDecay'>
> &
  Pick<
    TrainingConfig,
    'beta1' | 'beta2' | 'clipValue' | 'gradientPenalty' | 'r1Gamma' | 'stableSteps' | 'fadeSteps'
  >;

export type ModelSettingKey = keyof ModelSettings;

const adamGan = { learningRate: 2e-4, beta1: 0.5, beta2: 0.999, nCritic: 1, emaDecay: 0.999 };
const adamKarras = { learningRate: 1e-3, beta1: 0, beta2: 0.99, nCritic: 1, emaDecay: 0.999 };

/** Each model's defaults; a key a model has no default for is a key it does not accept. */
export const modelDefaults: Record<ModelName, ModelSettings> = {
  gan: adamGan,
  dcgan: adamGan,
  wgan: { learningRate: 5e-5, nCritic: 5, clipValue: 0.01, emaDecay: 0.999 },
  'wgan-gp': {
    learningRate: 1e-4,
    beta1: 0,
    beta2: 0.9,
    nCritic: 5,
    gradientPenalty: 10,
    emaDecay: 0.999,
  },
  // Small phases, so a default 1000-step run reaches 32x32 (fully faded in at step 700).
  progan: { ...adamKarras, stableSteps: 100, fadeSteps: 100 },
  stylegan: { ...adamKarras, r1Gamma: defaultR1Gamma },
  stylegan2: { ...adamKarras, r1Gamma: defaultR1Gamma },
};

/** Every setting whose meaning depends on the model; each model holds those it has defaults for. */
export const allSettingKeys: readonly ModelSettingKey[] = [
  'learningRate',
  'beta1',
  'beta2',
  'nCritic',
  'clipValue',
  'gradientPenalty',
  'r1Gamma',
  'stableSteps',
  'fadeSteps',
  'emaDecay',
];

/** The model-dependent keys `model` accepts. */
export function modelSettingKeys(model: ModelName): ModelSettingKey[] {
  return allSettingKeys.filter((key) => modelDefaults[model][key] !== undefined);
}

/** The model-dependent keys `model` does not accept. */
export function foreignSettingKeys(model: ModelName): ModelSettingKey[] {
  return allSettingKeys.filter((key) => modelDefaults[model][key] === undefined);
}

/**
 * The config with the model's defaults under every model key it leaves out. Configs stored
 * before a key existed resolve to that key's default, so old runs resume as they trained.
 */
export function withModelDefaults<T extends Pick<TrainingConfig, 'model'>>(
  config: T,
): T & ModelSettings {
  const filled: Record<string, unknown> = { ...config };
  for (const key of modelSettingKeys(config.model)) {
    filled[key] ??= modelDefaults[config.model][key];
  }
  return filled as T & ModelSettings;
}

export function resolveObjective(config: TrainingConfig): Objective {
  const settings = withModelDefaults(config);
  const wasserstein = config.model === 'wgan' || config.model === 'wgan-gp';
  const optimizer: OptimizerSpec =
    config.model === 'wgan'
      ? { kind: 'rmsprop', learningRate: settings.learningRate }
      : {
          kind: 'adam',
          learningRate: settings.learningRate,
          beta1: settings.beta1 as number,
          beta2: settings.beta2 as number,
        };
  return {
    loss: wasserstein ? 'wasserstein' : 'non-saturating',
    nCritic: settings.nCritic,
    clipValue: config.model === 'wgan' ? (settings.clipValue as number) : null,
    gradientPenalty: config.model === 'wgan-gp' ? (settings.gradientPenalty as number) : null,
    optimizer,
    emaDecay: settings.emaDecay,
    r1:
      settings.r1Gamma === undefined
        ? null
        : {
            gamma: settings.r1Gamma,
            interval: config.model === 'stylegan2' ? lazyR1Interval : 1,
          },
    progressive:
      config.model === 'progan'
        ? { stableSteps: settings.stableSteps as number, fadeSteps: settings.fadeSteps as number }
        : null,
  };
}
