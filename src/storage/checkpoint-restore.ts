/**
 * A stored checkpoint back as a trainer, after checking its file against the recorded hash: what
 * evaluations and re-sampling start from.
 */
import { createHash } from 'node:crypto';
import { GanforgeError, isGanforgeError } from '../errors.js';
import { decodeCheckpoint } from '../gan/checkpoint.js';
import { GanTrainer } from '../gan/training.js';
import type { ArtifactStore } from './artifacts.js';

export interface StoredCheckpoint {
  step: number;
  path: string;
  sha256: string;
}

export async function restoreStoredCheckpoint(
  artifacts: ArtifactStore,
  checkpoint: StoredCheckpoint,
): Promise<GanTrainer> {
  const bytes = await artifacts.read(checkpoint.path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== checkpoint.sha256) {
    throw new GanforgeError(
      'GANFORGE_ERR_CHECKPOINT_CORRUPT',
      `checkpoint at step ${checkpoint.step} does not match its recorded sha256`,
      { step: checkpoint.step },
    );
  }
  try {
    return GanTrainer.restore(decodeCheckpoint(bytes));
  } catch (err) {
    if (isGanforgeError(err)) throw err;
    throw new GanforgeError('GANFORGE_ERR_CHECKPOINT_CORRUPT', String(err), {
      step: checkpoint.step,
    });
  }
}
