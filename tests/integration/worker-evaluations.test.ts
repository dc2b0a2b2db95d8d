/**
 * The `ganforge worker` command runs both workers: a run's scheduled evaluation, queued by the
 * training sandbox, is scored by the same process's evaluation worker. Parzen windows need no
 * feature extractor, so this holds whichever extractors the build wires in.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { createTrainingQueue, enqueueTrainingRun } from '../../src/queue/training-queue.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/wait.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

let db: TestDatabase;
let redis: Redis;
let artifactsDir: string;
let worker: WorkerProcess | undefined;
const prefix = `test-worker-evaluations-${process.pid}`;
const timeoutMs = 180_000;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  artifactsDir = await mkdtemp(path.join(tmpdir(), 'ganforge-worker-evaluations-'));
});

afterAll(async () => {
  await worker?.kill();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.drop();
  await rm(artifactsDir, { recursive: true, force: true });
});

describe('ganforge worker', { timeout: 2 * timeoutMs }, () => {
  it('scores the evaluations its training sandbox schedules', async () => {
    const config: TrainingConfig = {
      ...trainingDefaults,
      model: 'gan',
      dataset: 'mnist',
      seed: 4,
      steps: 2,
      batchSize: 8,
      width: 8,
      latentDim: 8,
      checkpointEvery: 2,
      sampleCount: 16,
      evaluation: {
        every: 2,
        metrics: ['parzen'],
        samples: 20,
        extractor: 'classifier',
        realSamples: 20,
        realSplit: 'test',
      },
    };
    const run = await db.prisma.run.create({
      data: {
        model: config.model,
        datasetId: config.dataset,
        config: { ...config },
        seed: config.seed,
        totalSteps: config.steps,
      },
    });
    const queue = createTrainingQueue(redis, prefix);
    await enqueueTrainingRun(queue, run.id);
    await queue.close();

    worker = startWorkerProcess({
      DATABASE_URL: db.url,
      GANFORGE_PREFIX: prefix,
      GANFORGE_ARTIFACTS_DIR: artifactsDir,
      GANFORGE_BACKEND: 'wasm',
    });
    const evaluation = await waitFor(
      'the scheduled evaluation to finish',
      async () => {
        const row = await db.prisma.evaluation.findFirst({ where: { runId: run.id } });
        return row && ['completed', 'failed'].includes(row.status) ? row : undefined;
      },
      timeoutMs,
    );

    expect(evaluation).toMatchObject({
      step: 2,
      metric: 'parzen',
      status: 'completed',
      extractorName: 'pixels',
      generatedSamples: 20,
      realSamples: 20,
    });
    // A log-density over 784 pixels in [0, 1]: finite, and negative for a 2-step generator.
    expect(evaluation.value).toBeLessThan(0);
    expect(Number.isFinite(evaluation.value)).toBe(true);
  });
});
