import { Type, type Static } from 'typebox';
import type { Run } from '../../db/generated/client.js';
import type { TrainingConfig } from '../../gan/training-config.js';
import { DateTime, maxRunSteps, NullableDateTime, NullableString } from './common.js';
import { EvaluationScheduleSchema, ResolvedEvaluationScheduleSchema } from './evaluations.js';

export const RunStatusSchema = Type.Enum([
  'queued',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'diverged',
]);

/** Bounds shared by the request (optional fields) and the resolved config (all present). */
const configFields = {
  seed: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, description: 'Default: random.' }),
  steps: Type.Integer({ minimum: 1, maximum: maxRunSteps, description: 'Default: 1000.' }),
  batchSize: Type.Integer({
    minimum: 1,
    maximum: 1024,
    description: 'Default: 64; at most the dataset training split size.',
  }),
  width: Type.Integer({
    minimum: 1,
    maximum: 1024,
    description:
      'Network capacity: DCGAN channels are width and 2x width (default 64); MLP GAN hidden ' +
      'units are width, 2x and 4x (default 256); progan, stylegan and stylegan2 channels are ' +
      'width at the final resolution, up to 4x at coarser ones (default 16).',
  }),
  latentDim: Type.Integer({ minimum: 1, maximum: 1024, description: 'Default: 100.' }),
  learningRate: Type.Number({
    exclusiveMinimum: 0,
    maximum: 1,
    description:
      'Of both optimizers. Default: 2e-4 (gan, dcgan), 5e-5 (wgan), 1e-4 (wgan-gp), 1e-3 ' +
      '(progan, stylegan, stylegan2).',
  }),
  beta1: Type.Number({
    minimum: 0,
    exclusiveMaximum: 1,
    description:
      'Adam beta1 (not wgan, which uses RMSProp). Default: 0.5; 0 for wgan-gp, progan, ' +
      'stylegan and stylegan2.',
  }),
  beta2: Type.Number({
    minimum: 0,
    exclusiveMaximum: 1,
    description:
      'Adam beta2 (not wgan). Default: 0.999; 0.9 for wgan-gp; 0.99 for progan, stylegan and ' +
      'stylegan2.',
  }),
  nCritic: Type.Integer({
    minimum: 1,
    maximum: 100,
    description:
      'Discriminator (critic) updates per generator update, each on its own real batch. ' +
      'Default: 5 (wgan, wgan-gp), 1 (the others).',
  }),
  clipValue: Type.Number({
    exclusiveMinimum: 0,
    maximum: 1,
    description: 'wgan only: critic weights are clipped to [-clipValue, clipValue]. Default: 0.01.',
  }),
  gradientPenalty: Type.Number({
    exclusiveMinimum: 0,
    maximum: 1000,
    description: 'wgan-gp only: lambda, the weight of the gradient penalty. Default: 10.',
  }),
  r1Gamma: Type.Number({
    exclusiveMinimum: 0,
    maximum: 1000,
    description:
      'stylegan and stylegan2 only: gamma of the R1 penalty on real images, applied every ' +
      'discriminator update (stylegan) or every 16th, scaled by 16 (stylegan2). Default: 10.',
  }),
  stableSteps: Type.Integer({
    minimum: 1,
    maximum: maxRunSteps,
    description: 'progan only: steps at each resolution once it has faded in. Default: 100.',
  }),
  fadeSteps: Type.Integer({
    minimum: 1,
    maximum: maxRunSteps,
    description: 'progan only: steps over which each new resolution fades in. Default: 100.',
  }),
  emaDecay: Type.Number({
    minimum: 0,
    exclusiveMaximum: 1,
    description:
      'Decay of the moving average of the generator weights that samples come from; 0 samples ' +
      'the generator itself. Default: 0.999.',
  }),
  imageSize: Type.Integer({
    minimum: 1,
    maximum: 1024,
    description:
      'Side of the square images the networks see: the dataset side (default) or larger, the ' +
      'data then padded with background (e.g. 32 for 28x28 MNIST). progan, stylegan and ' +
      'stylegan2 need a power of two of 8 or more; their default is the dataset side rounded ' +
      'up to one (32 for 28x28).',
  }),
  logEvery: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Default: 10.' }),
  sampleEvery: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Default: 100.' }),
  checkpointEvery: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Default: 250.' }),
  sampleCount: Type.Integer({
    minimum: 1,
    maximum: 256,
    description: 'Images per sample grid, a square number. Default: 64.',
  }),
};

export const CreateRunBody = Type.Object(
  {
    model: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'Model name: gan, dcgan, wgan, wgan-gp, progan, stylegan or stylegan2.',
    }),
    dataset: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'Built-in dataset id (GET /v1/datasets).',
    }),
    seed: Type.Optional(configFields.seed),
    steps: Type.Optional(configFields.steps),
    batchSize: Type.Optional(configFields.batchSize),
    width: Type.Optional(configFields.width),
    latentDim: Type.Optional(configFields.latentDim),
    learningRate: Type.Optional(configFields.learningRate),
    beta1: Type.Optional(configFields.beta1),
    beta2: Type.Optional(configFields.beta2),
    nCritic: Type.Optional(configFields.nCritic),
    clipValue: Type.Optional(configFields.clipValue),
    gradientPenalty: Type.Optional(configFields.gradientPenalty),
    r1Gamma: Type.Optional(configFields.r1Gamma),
    stableSteps: Type.Optional(configFields.stableSteps),
    fadeSteps: Type.Optional(configFields.fadeSteps),
    emaDecay: Type.Optional(configFields.emaDecay),
    imageSize: Type.Optional(configFields.imageSize),
    logEvery: Type.Optional(configFields.logEvery),
    sampleEvery: Type.Optional(configFields.sampleEvery),
    checkpointEvery: Type.Optional(configFields.checkpointEvery),
    sampleCount: Type.Optional(configFields.sampleCount),
    evaluation: Type.Optional(EvaluationScheduleSchema),
  },
  { additionalProperties: false },
);

export type CreateRunRequest = Static<typeof CreateRunBody>;

export const TrainingConfigSchema = Type.Object(
  {
    model: Type.String(),
    dataset: Type.String(),
    ...configFields,
    // Runs stored before a field existed trained with their model's default for it; the
    // model-specific ones are present only for the models that use them.
    width: Type.Optional(configFields.width),
    learningRate: Type.Optional(configFields.learningRate),
    beta1: Type.Optional(configFields.beta1),
    beta2: Type.Optional(configFields.beta2),
    nCritic: Type.Optional(configFields.nCritic),
    clipValue: Type.Optional(configFields.clipValue),
    gradientPenalty: Type.Optional(configFields.gradientPenalty),
    r1Gamma: Type.Optional(configFields.r1Gamma),
    stableSteps: Type.Optional(configFields.stableSteps),
    fadeSteps: Type.Optional(configFields.fadeSteps),
    emaDecay: Type.Optional(configFields.emaDecay),
    imageSize: Type.Optional(configFields.imageSize),
    imageFit: Type.Optional(
      Type.String({
        description:
          "How the dataset's images reach imageSize: none, or pad-<side> (centred, with " +
          'background), e.g. pad-32 for 28x28 MNIST at 32.',
      }),
    ),
    evaluation: Type.Optional(ResolvedEvaluationScheduleSchema),
  },
  { description: 'The full training config of the run, defaults filled in.' },
);

export const RunSchema = Type.Object(
  {
    id: Type.String(),
    model: Type.String(),
    dataset: Type.String(),
    status: RunStatusSchema,
    step: Type.Integer({ description: 'Last completed training step.' }),
    totalSteps: Type.Integer(),
    seed: Type.Integer(),
    config: TrainingConfigSchema,
    backend: Type.Union([Type.String(), Type.Null()], {
      description: 'Compute backend the worker trains on; null until the run starts.',
    }),
    errorCode: NullableString,
    errorMessage: NullableString,
    createdAt: DateTime,
    startedAt: NullableDateTime,
    finishedAt: NullableDateTime,
    updatedAt: DateTime,
  },
  { description: 'A training run.' },
);

export type RunView = Static<typeof RunSchema>;

export const ListRunsQuery = Type.Object(
  {
    status: Type.Optional(RunStatusSchema),
    model: Type.Optional(Type.String({ maxLength: 64 })),
    dataset: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(
      Type.String({ maxLength: 200, description: 'nextCursor of the previous page.' }),
    ),
  },
  { additionalProperties: false },
);

export const RunListSchema = Type.Object(
  {
    items: Type.Array(RunSchema, { description: 'Newest first.' }),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as cursor for the next page; null on the last page.',
    }),
  },
  { description: 'A page of runs.' },
);

export function runView(run: Run): RunView {
  return {
    id: run.id,
    model: run.model,
    dataset: run.datasetId,
    status: run.status,
    step: run.step,
    totalSteps: run.totalSteps,
    seed: run.seed,
    config: run.config as unknown as TrainingConfig,
    backend: run.backend,
    errorCode: run.errorCode,
    errorMessage: run.errorMessage,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    updatedAt: run.updatedAt.toISOString(),
  };
}
