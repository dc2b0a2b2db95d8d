import { Type, type Static } from 'typebox';
import type { Checkpoint } from '../../db/generated/client.js';
import { checkpointUrl } from '../../storage/run-artifacts.js';
import { DateTime } from './common.js';

export const CheckpointSchema = Type.Object({
  step: Type.Integer(),
  sha256: Type.String({ description: 'Hex SHA-256 of the file.' }),
  bytes: Type.Integer(),
  url: Type.String({ description: 'Download of the checkpoint file.' }),
  createdAt: DateTime,
});

export const CheckpointListSchema = Type.Object(
  {
    items: Type.Array(CheckpointSchema, { description: 'Ascending by step.' }),
  },
  { description: 'Checkpoints of a run.' },
);

export function checkpointView(checkpoint: Checkpoint): Static<typeof CheckpointSchema> {
  return {
    step: checkpoint.step,
    sha256: checkpoint.sha256,
    bytes: checkpoint.bytes,
    url: checkpointUrl(checkpoint.runId, checkpoint.step),
    createdAt: checkpoint.createdAt.toISOString(),
  };
}
