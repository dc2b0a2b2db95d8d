/**
 * Finds where an interrupted run can go on: its newest checkpoint whose file matches the recorded
 * hash. A damaged newest checkpoint costs the steps back to the one before it, not the run.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { BatchSamplerState } from '../data/batches.js';
import type { PrismaClient } from '../db/client.js';
import { decodeCheckpoint } from '../gan/checkpoint.js';
import { GanTrainer } from '../gan/training.js';
import type { ArtifactStore } from '../storage/artifacts.js';

export interface ResumePoint {
  trainer: GanTrainer;
  samplerState: BatchSamplerState;
  checkpoint: { id: string; step: number };
}

export async function restoreLatestCheckpoint(
  prisma: PrismaClient,
  artifacts: ArtifactStore,
  runId: string,
  log: Logger,
): Promise<ResumePoint | null> {
  const checkpoints = await prisma.checkpoint.findMany({
    where: { runId },
    orderBy: { step: 'desc' },
  });
  for (const checkpoint of checkpoints) {
    try {
      const bytes = await artifacts.read(checkpoint.path);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (sha256 !== checkpoint.sha256) throw new Error(`sha256 ${sha256} is not the recorded one`);
      const state = decodeCheckpoint(bytes);
      const samplerState = state.meta.sampler as BatchSamplerState | undefined;
      if (!samplerState) throw new Error('the checkpoint has no data sampler state');
      return { trainer: GanTrainer.restore(state), samplerState, checkpoint };
    } catch (err) {
      log.warn({ err, step: checkpoint.step }, 'skipping an unusable checkpoint');
    }
  }
  return null;
}
