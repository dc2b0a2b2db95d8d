import { Type } from 'typebox';
import { maxRunSteps } from './common.js';

export const ScalarsQuery = Type.Object(
  {
    name: Type.Optional(
      Type.Array(Type.String({ maxLength: 100 }), {
        maxItems: 50,
        description: 'Only these series (repeat the parameter for several).',
      }),
    ),
    since: Type.Integer({
      minimum: 0,
      maximum: maxRunSteps,
      default: 0,
      description: 'Only steps at or after this one; pass nextSince to read on.',
    }),
    limit: Type.Integer({
      minimum: 1000,
      maximum: 100_000,
      default: 10_000,
      description: 'Most values returned, over all series.',
    }),
  },
  { additionalProperties: false },
);

export const ScalarSeriesSchema = Type.Object({
  name: Type.String({ description: 'e.g. loss/discriminator, loss/generator.' }),
  steps: Type.Array(Type.Integer(), { description: 'Ascending.' }),
  values: Type.Array(Type.Number(), { description: 'values[i] was logged at steps[i].' }),
});

export const ScalarsResponseSchema = Type.Object(
  {
    series: Type.Array(ScalarSeriesSchema, { description: 'One per name, sorted by name.' }),
    nextSince: Type.Union([Type.Integer(), Type.Null()], {
      description: 'More values exist from this step on; null when everything was returned.',
    }),
  },
  { description: 'Scalar series of a run.' },
);
