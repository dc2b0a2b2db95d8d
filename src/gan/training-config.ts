/**
 * What one training run needs to know, independent of the server. The API validates a request
 * into this shape; the worker hands it to the training loop.
 */
export const modelNames = ['gan', 'dcgan'] as const;
export type ModelName = (typeof modelNames)[number];

export const datasetNames = ['mnist'] as const;
export type DatasetName = (typeof datasetNames)[number];

export interface TrainingConfig {
  model: ModelName;
  dataset: DatasetName;
  /** Seeds weight init, data order and noise; the same seed repeats the run. */
  seed: number;
  /** Total optimisation steps (one discriminator and one generator update each). */
  steps: number;
  batchSize: number;
  /**
   * Capacity of both networks (see models/index.ts ModelOptions); absent means the model's own
   * default. The API stores the resolved value with the run.
   */
  width?: number;
  /** Size of the Gaussian noise vector z. */
  latentDim: number;
  /** Adam, as in the DCGAN paper (Radford et al. 2015): lr 2e-4, beta1 0.5. */
  learningRate: number;
  beta1: number;
  beta2: number;
  /** Write losses as scalars every this many steps. */
  logEvery: number;
  /** Write a PNG grid of G(fixed noise) every this many steps. */
  sampleEvery: number;
  /** Write a checkpoint every this many steps (and always at the end). */
  checkpointEvery: number;
  /** Images in each sample grid (a square number: 16, 36, 64 ...). */
  sampleCount: number;
}

export const trainingDefaults: Omit<TrainingConfig, 'model' | 'dataset' | 'seed'> = {
  steps: 1000,
  batchSize: 64,
  latentDim: 100,
  learningRate: 2e-4,
  beta1: 0.5,
  beta2: 0.999,
  logEvery: 10,
  sampleEvery: 100,
  checkpointEvery: 250,
  sampleCount: 64,
};
