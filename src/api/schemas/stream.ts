import { Type } from 'typebox';

const seq = Type.String({ pattern: '^\\d+-\\d+$', description: 'An event seq (stream id).' });

export const StreamQuery = Type.Object(
  { after: Type.Optional(seq) },
  { additionalProperties: false },
);

export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(seq),
});

const eventBase = {
  runId: Type.String(),
  seq,
  step: Type.Integer({ description: 'Training step the event belongs to.' }),
};

const NullableText = Type.Union([Type.String(), Type.Null()]);

/**
 * One message of the run stream (src/queue/run-events.ts is the type the worker publishes). It is
 * documented here, under components.schemas, since OpenAPI has no place for WebSocket messages.
 */
export const RunEventSchema = Type.Union(
  [
    Type.Object({
      ...eventBase,
      kind: Type.Literal('status'),
      status: Type.String(),
      backend: Type.Optional(Type.String()),
      errorCode: Type.Optional(Type.String()),
      errorMessage: Type.Optional(Type.String()),
    }),
    Type.Object({
      ...eventBase,
      kind: Type.Literal('scalars'),
      values: Type.Record(Type.String(), Type.Number()),
    }),
    Type.Object({
      ...eventBase,
      kind: Type.Literal('sample'),
      url: Type.String(),
      width: Type.Integer(),
      height: Type.Integer(),
    }),
    Type.Object({
      ...eventBase,
      kind: Type.Literal('checkpoint'),
      url: Type.String(),
      sha256: Type.String(),
      bytes: Type.Integer(),
    }),
    Type.Object({
      ...eventBase,
      kind: Type.Literal('log'),
      level: Type.Enum(['info', 'warn', 'error']),
      message: Type.String(),
    }),
    Type.Object(
      {
        ...eventBase,
        kind: Type.Literal('evaluation'),
        evaluationId: Type.String(),
        metric: Type.String(),
        status: Type.Enum(['completed', 'failed']),
        value: Type.Union([Type.Number(), Type.Null()]),
        datasetId: Type.String(),
        extractorName: NullableText,
        extractorSha256: NullableText,
        resize: NullableText,
        generatedSamples: Type.Integer(),
        realSamples: Type.Integer(),
        realSplit: Type.String(),
        errorCode: Type.Optional(Type.String()),
      },
      {
        description:
          'A finished evaluation of the checkpoint at step, with its protocol; it can follow ' +
          "the run's terminal status.",
      },
    ),
  ],
  { $id: 'RunEvent', description: 'One JSON message of GET /v1/runs/{id}/stream.' },
);
