import { Type, type Static } from 'typebox';
import type { Evaluation } from '../../db/generated/client.js';
import { extractorKinds, metricNames } from '../../gan/training-config.js';
import { DateTime, maxRunSteps, NullableDateTime, NullableString } from './common.js';

export const MetricSchema = Type.Enum([...metricNames], {
  description:
    'fid (Frechet distance, lower is better), is (Inception Score, higher), kid (Kernel ' +
    'Inception Distance, lower), parzen (Parzen-window log-likelihood of real test images in ' +
    'pixel space, higher), precision-recall (k = 3 manifolds; ranked by precision, higher).',
});

const ExtractorSchema = Type.Enum([...extractorKinds], {
  description:
    "Feature extractor: ganforge's classifier of the run's dataset (default) or Inception-v3 " +
    'pool_3. Parzen windows ignore it and work on pixels.',
});

const RealSplitSchema = Type.Enum(['train', 'test'], {
  description: 'Dataset split the real images come from. Default: test.',
});

/** The sample counts a request may ask for; at least 10 for the 10 Inception Score splits. */
const SamplesSchema = Type.Integer({
  minimum: 10,
  maximum: 50_000,
  description: 'Images generated. Default: 1000.',
});

const RealSamplesSchema = Type.Integer({
  minimum: 10,
  maximum: 60_000,
  description:
    'Real images compared against, the first of the split; at most its size. Default: as many ' +
    'as samples. Parzen windows score this many test images, with sigma chosen on as many ' +
    'training images.',
});

export const EvaluationScheduleSchema = Type.Object(
  {
    every: Type.Integer({
      minimum: 1,
      maximum: maxRunSteps,
      description:
        'Evaluate every this many steps (and at the last); a multiple of checkpointEvery.',
    }),
    metrics: Type.Array(MetricSchema, { minItems: 1, maxItems: 5, uniqueItems: true }),
    samples: Type.Optional(SamplesSchema),
    extractor: Type.Optional(ExtractorSchema),
    realSamples: Type.Optional(RealSamplesSchema),
    realSplit: Type.Optional(RealSplitSchema),
  },
  {
    additionalProperties: false,
    description:
      'Evaluations queued while the run trains, one per metric, on the checkpoint of every ' +
      'scheduled step. Training does not wait for them.',
  },
);

export type EvaluationScheduleRequest = Static<typeof EvaluationScheduleSchema>;

export const ResolvedEvaluationScheduleSchema = Type.Object(
  {
    every: Type.Integer(),
    metrics: Type.Array(MetricSchema),
    samples: Type.Integer(),
    extractor: ExtractorSchema,
    realSamples: Type.Integer(),
    realSplit: RealSplitSchema,
  },
  { description: 'The evaluation schedule, defaults filled in.' },
);

export const CreateEvaluationBody = Type.Object(
  {
    metric: MetricSchema,
    step: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: maxRunSteps,
        description: "A checkpoint's step. Default: the run's latest checkpoint.",
      }),
    ),
    samples: Type.Optional(SamplesSchema),
    extractor: Type.Optional(ExtractorSchema),
    realSamples: Type.Optional(RealSamplesSchema),
    realSplit: Type.Optional(RealSplitSchema),
  },
  { additionalProperties: false },
);

export type CreateEvaluationRequest = Static<typeof CreateEvaluationBody>;

export const EvaluationStatusSchema = Type.Enum(['queued', 'running', 'completed', 'failed']);

/** The fields that must be equal for two scores to be ranked together. */
const protocolFields = {
  metric: MetricSchema,
  dataset: Type.String(),
  extractor: Type.String({ description: 'Requested kind: classifier, inception or pixels.' }),
  extractorName: Type.Union([Type.String(), Type.Null()], {
    description: 'Name of the extractor used; null until the evaluation runs.',
  }),
  extractorSha256: Type.Union([Type.String(), Type.Null()], {
    description: "Hex SHA-256 of the extractor's weights; null for pixels or until it runs.",
  }),
  resize: Type.Union([Type.String(), Type.Null()], {
    description: 'How images are brought to the extractor input, e.g. none or bilinear-299.',
  }),
  generatedSamples: Type.Integer(),
  realSamples: Type.Integer(),
  realSplit: Type.String(),
};

export const ProtocolSchema = Type.Object(protocolFields, {
  description: 'What makes two scores comparable.',
});

export const EvaluationSchema = Type.Object(
  {
    id: Type.String(),
    runId: Type.String(),
    step: Type.Integer({ description: 'Step of the evaluated checkpoint.' }),
    status: EvaluationStatusSchema,
    value: Type.Union([Type.Number(), Type.Null()], {
      description:
        'The headline number: FID, IS mean, KID mean, Parzen mean log-likelihood (nats) or ' +
        'precision; null until completed.',
    }),
    result: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
      description:
        'Everything the metric reports: std and splits (is), std and subsets (kid), ' +
        'standardError and sigma (parzen), recall and k (precision-recall), warnings (fid).',
    }),
    ...protocolFields,
    errorCode: NullableString,
    errorMessage: NullableString,
    createdAt: DateTime,
    startedAt: NullableDateTime,
    finishedAt: NullableDateTime,
  },
  { description: 'A score of one checkpoint under one protocol.' },
);

export type EvaluationView = Static<typeof EvaluationSchema>;

export const RunEvaluationsQuery = Type.Object(
  { metric: Type.Optional(MetricSchema) },
  { additionalProperties: false },
);

export const EvaluationListSchema = Type.Object(
  { items: Type.Array(EvaluationSchema, { description: 'By step, then creation.' }) },
  { description: 'Evaluations of a run.' },
);

export const LeaderboardQuery = Type.Object(
  {
    dataset: Type.Optional(Type.String({ maxLength: 64 })),
    metric: Type.Optional(MetricSchema),
    extractor: Type.Optional(
      Type.String({ maxLength: 64, description: 'Extractor name (extractorName), e.g. pixels.' }),
    ),
    extractorSha256: Type.Optional(Type.String({ maxLength: 64 })),
    generatedSamples: Type.Optional(Type.Integer({ minimum: 1 })),
    realSamples: Type.Optional(Type.Integer({ minimum: 1 })),
    realSplit: Type.Optional(RealSplitSchema),
    model: Type.Optional(Type.String({ maxLength: 64, description: 'Only runs of this model.' })),
    limit: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 20,
      description: 'Entries per protocol group.',
    }),
  },
  { additionalProperties: false },
);

export const LeaderboardEntrySchema = Type.Object({
  rank: Type.Integer({ description: '1 for the best score of the group.' }),
  model: Type.String({ description: "The run's model." }),
  evaluation: EvaluationSchema,
});

export const LeaderboardSchema = Type.Object(
  {
    groups: Type.Array(
      Type.Object({
        protocol: ProtocolSchema,
        order: Type.Enum(['ascending', 'descending'], {
          description: 'ascending: lower is better (fid, kid); descending: higher is better.',
        }),
        count: Type.Integer({ description: 'Completed scores with this protocol.' }),
        entries: Type.Array(LeaderboardEntrySchema, { description: 'Best first.' }),
      }),
      { description: 'One group per protocol, the most populated first.' },
    ),
  },
  {
    description:
      'Completed evaluations ranked within their protocol (metric, dataset, extractor name and ' +
      'weights hash, resize, generated and real sample counts, real split): scores of different ' +
      'protocols are never ranked together. Each entry is one evaluated checkpoint.',
  },
);

export function evaluationView(evaluation: Evaluation): EvaluationView {
  return {
    id: evaluation.id,
    runId: evaluation.runId,
    step: evaluation.step,
    status: evaluation.status,
    value: evaluation.value,
    result: evaluation.result as Record<string, unknown> | null,
    metric: evaluation.metric as EvaluationView['metric'],
    dataset: evaluation.datasetId,
    extractor: evaluation.extractor,
    extractorName: evaluation.extractorName,
    extractorSha256: evaluation.extractorSha256,
    resize: evaluation.resize,
    generatedSamples: evaluation.generatedSamples,
    realSamples: evaluation.realSamples,
    realSplit: evaluation.realSplit,
    errorCode: evaluation.errorCode,
    errorMessage: evaluation.errorMessage,
    createdAt: evaluation.createdAt.toISOString(),
    startedAt: evaluation.startedAt?.toISOString() ?? null,
    finishedAt: evaluation.finishedAt?.toISOString() ?? null,
  };
}
