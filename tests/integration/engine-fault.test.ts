/**
 * A run whose networks do not fit the wasm engine's 4 GB heap traps the engine. The run fails with
 * GANFORGE_ERR_ENGINE_FAULT, not after retries on a broken heap, and the training process that
 * trapped is replaced: the next run trains in a fresh one and completes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { queueTrainingRun } from '../helpers/queued-run.js';
import { waitFor } from '../helpers/wait.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

let db: TestDatabase;
let redis: Redis;
let artifactsDir: string;
let worker: WorkerProcess | undefined;
const prefix = `test-engine-fault-${process.pid}`;
const timeoutMs = 120_000;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  artifactsDir = await mkdtemp(path.join(tmpdir(), 'ganforge-engine-fault-'));
});

afterAll(async () => {
  await worker?.kill();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.drop();
  await rm(artifactsDir, { recursive: true, force: true });
});

function finished(runId: string) {
  return waitFor(
    `run ${runId} to finish`,
    async () => {
      const run = await db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
      return ['completed', 'failed', 'diverged'].includes(run.status) ? run : undefined;
    },
    timeoutMs,
  );
}

describe('a trap in the compute engine', { timeout: 3 * timeoutMs }, () => {
  it('fails its run with a code and leaves the next run a fresh training process', async () => {
    const tiny: TrainingConfig = {
      ...trainingDefaults,
      model: 'gan',
      dataset: 'mnist',
      seed: 3,
      steps: 2,
      batchSize: 8,
      width: 8,
      latentDim: 8,
      sampleCount: 4,
    };
    worker = startWorkerProcess({
      DATABASE_URL: db.url,
      GANFORGE_PREFIX: prefix,
      GANFORGE_ARTIFACTS_DIR: artifactsDir,
      GANFORGE_BACKEND: 'wasm',
    });
    // 1024x1024 images into an MLP 1,024 units wide: a 4 GB first weight matrix.
    const tooLarge = await queueTrainingRun(db.prisma, redis, prefix, {
      ...tiny,
      imageSize: 1024,
      width: 256,
    });
    const failed = await finished(tooLarge);
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'GANFORGE_ERR_ENGINE_FAULT' });
    expect(failed.errorMessage).toMatch(/smaller imageSize, width or batchSize/);

    const next = await queueTrainingRun(db.prisma, redis, prefix, tiny);
    expect((await finished(next)).status).toBe('completed');
    expect(worker.sandboxPids()).toHaveLength(2);
  });
});
