/**
 * What one training run needs to know, independent of the server. The API validates a request
 * into this shape, with every default of the run's model filled in (objectives.ts); the worker
 * hands it to the training loop.
 */
export const modelNames = [
  'gan',
  'dcgan',
  'wgan',
  'wgan-gp',
  'progan',
  'stylegan',
  'stylegan2',
] as const;
export type ModelName = (typeof modelNames)[number];

export const datasetNames = ['mnist', 'fashion-mnist'] as const;
export type DatasetName = (typeof datasetNames)[number];

/** The scores an evaluation can compute (src/metrics). */
export const metricNames = ['fid', 'is', 'kid', 'parzen', 'precision-recall'] as const;
export type MetricName = (typeof metricNames)[number];

/** Lower is better for the distances (FID, KID), higher for the rest. */
export function lowerIsBetter(metric: MetricName): boolean {
  return metric === 'fid' || metric === 'kid';
}

/** Feature extractors of FID, IS, KID and precision/recall; Parzen windows work on pixels. */
export const extractorKinds = ['classifier', 'inception'] as const;
export type ExtractorKind = (typeof extractorKinds)[number];

/**
 * Evaluations queued while a run trains: at every step that is a multiple of `every` (a multiple
 * of checkpointEvery, so each lands on a checkpoint) and at the last step, one per metric.
 */
// A type, not an interface: the config is stored as JSON, and only type aliases fit Prisma's
// JSON input type.
export type EvaluationSchedule = {
  every: number;
  metrics: MetricName[];
  /** Images generated per evaluation. */
  samples: number;
  extractor: ExtractorKind;
  /** Real images compared against (the Parzen window's test and validation sets each). */
  realSamples: number;
  realSplit: 'train' | 'test';
};

export interface TrainingConfig {
  model: ModelName;
  dataset: DatasetName;
  /** Seeds weight init, data order and noise; the same seed repeats the run. */
  seed: number;
  /** Total optimisation steps: generator updates, each after nCritic discriminator updates. */
  steps: number;
  batchSize: number;
  /**
   * Capacity of both networks (see models/index.ts ModelOptions); absent means the model's own
   * default. The API stores the resolved value with the run.
   */
  width?: number;
  /** Size of the Gaussian noise vector z. */
  latentDim: number;
  /** Of both optimizers; the model's default (objectives.ts) when absent. */
  learningRate?: number;
  /** Adam's betas, for the models that train with Adam (not `wgan`). */
  beta1?: number;
  beta2?: number;
  /** Discriminator (critic) updates per generator update, each on a fresh real batch. */
  nCritic?: number;
  /** `wgan`: every critic weight is clipped to [-clipValue, clipValue] after each update. */
  clipValue?: number;
  /** `wgan-gp`: lambda, the weight of the gradient penalty. */
  gradientPenalty?: number;
  /** `stylegan`, `stylegan2`: gamma of the R1 penalty on real images. */
  r1Gamma?: number;
  /** `progan`: steps at each resolution once it has faded in. */
  stableSteps?: number;
  /** `progan`: steps over which each new resolution fades in. */
  fadeSteps?: number;
  /** Decay of the moving average of G's weights that samples come from; 0 samples G itself. */
  emaDecay?: number;
  /** Side of the square images the networks see; data smaller than this is padded. */
  imageSize?: number;
  /**
   * How the dataset's images reach imageSize, as the API resolved it: `none` (same side) or
   * `pad-<side>` (centred, with background). Informational; absent from older runs.
   */
  imageFit?: string;
  /** Write losses as scalars every this many steps. */
  logEvery: number;
  /** Write a PNG grid of G(fixed noise) every this many steps. */
  sampleEvery: number;
  /** Write a checkpoint every this many steps (and always at the end). */
  checkpointEvery: number;
  /** Images in each sample grid (a square number: 16, 36, 64 ...). */
  sampleCount: number;
  /** Scheduled evaluations; none when absent. */
  evaluation?: EvaluationSchedule;
}

/** Defaults every model shares; objectives.ts adds each model's own. */
export const trainingDefaults = {
  steps: 1000,
  batchSize: 64,
  latentDim: 100,
  logEvery: 10,
  sampleEvery: 100,
  checkpointEvery: 250,
  sampleCount: 64,
} satisfies Partial<TrainingConfig>;
