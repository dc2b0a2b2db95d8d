import { Type, type Static } from 'typebox';
import type { Sample } from '../../db/generated/client.js';
import { sampleUrl } from '../../storage/run-artifacts.js';
import { DateTime } from './common.js';

export const SampleSchema = Type.Object({
  step: Type.Integer(),
  width: Type.Integer({ description: 'Grid width in pixels.' }),
  height: Type.Integer({ description: 'Grid height in pixels.' }),
  url: Type.String({ description: 'The PNG grid of G(fixed noise) at this step.' }),
  createdAt: DateTime,
});

export const SampleListSchema = Type.Object(
  {
    items: Type.Array(SampleSchema, { description: 'Ascending by step.' }),
  },
  { description: 'Sample grids of a run.' },
);

export function sampleView(sample: Sample): Static<typeof SampleSchema> {
  return {
    step: sample.step,
    width: sample.width,
    height: sample.height,
    url: sampleUrl(sample.runId, sample.step),
    createdAt: sample.createdAt.toISOString(),
  };
}
