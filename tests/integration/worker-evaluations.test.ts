/**
 * The `ganforge worker` command runs both workers: a run's scheduled evaluations, queued by the
 * training sandbox, are scored by the same process's evaluation worker with the extractors the
 * build wires in. The dataset's classifier is stored beforehand from a short recipe (the worker
 * would otherwise spend a minute or two training the full one); Inception-v3 is not installed
 * here, so an `inception` evaluation must fail with its code.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/gan/engine.js';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { trainAndStoreClassifier } from '../../src/metrics/extractors/index.js';
import { createQueuedEvaluation } from '../../src/db/evaluations.js';
import { createEvaluationQueue, enqueueEvaluation } from '../../src/queue/evaluation-queue.js';
import { shortClassifierRecipe } from '../helpers/classifier-recipe.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { queueTrainingRun } from '../helpers/queued-run.js';
import { waitFor } from '../helpers/wait.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

let db: TestDatabase;
let redis: Redis;
let artifactsDir: string;
let classifierSha256: string;
let worker: WorkerProcess | undefined;
const prefix = `test-worker-evaluations-${process.pid}`;
const timeoutMs = 180_000;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  artifactsDir = await mkdtemp(path.join(tmpdir(), 'ganforge-worker-evaluations-'));
  await initEngine('wasm');
  const stored = await trainAndStoreClassifier(
    'mnist',
    { cacheDir: path.join(artifactsDir, 'extractors') },
    { ...shortClassifierRecipe, seed: 5 },
  );
  classifierSha256 = stored.sha256;
}, timeoutMs);

afterAll(async () => {
  await worker?.kill();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.drop();
  await rm(artifactsDir, { recursive: true, force: true });
});

describe('ganforge worker', { timeout: 2 * timeoutMs }, () => {
  it('scores the evaluations its training sandbox schedules with the wired extractors', async () => {
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
        metrics: ['parzen', 'fid', 'is'],
        samples: 20,
        extractor: 'classifier',
        realSamples: 20,
        realSplit: 'test',
      },
    };
    const runId = await queueTrainingRun(db.prisma, redis, prefix, config);

    worker = startWorkerProcess({
      DATABASE_URL: db.url,
      GANFORGE_PREFIX: prefix,
      GANFORGE_ARTIFACTS_DIR: artifactsDir,
      GANFORGE_BACKEND: 'wasm',
      GANFORGE_INCEPTION_MODEL_DIR: path.join(artifactsDir, 'no-inception-here'),
    });
    const evaluations = await waitFor(
      'the scheduled evaluations to finish',
      async () => {
        const rows = await db.prisma.evaluation.findMany({ where: { runId: runId } });
        const done = rows.filter((row) => ['completed', 'failed'].includes(row.status));
        return done.length === 3 ? new Map(done.map((row) => [row.metric, row])) : undefined;
      },
      timeoutMs,
    );

    const common = { step: 2, status: 'completed', generatedSamples: 20, realSamples: 20 };
    const parzen = evaluations.get('parzen')!;
    expect(parzen).toMatchObject({ ...common, extractorName: 'pixels' });
    // A log-density over 784 pixels in [0, 1]: finite, and negative for a 2-step generator.
    expect(parzen.value).toBeLessThan(0);
    expect(Number.isFinite(parzen.value)).toBe(true);
    expect(evaluations.get('fid')).toMatchObject({
      ...common,
      realSplit: 'test',
      extractorName: 'classifier-mnist',
      extractorSha256: classifierSha256,
    });
    // IS reads no real images, whatever the schedule says for the other metrics.
    expect(evaluations.get('is')).toMatchObject({
      ...common,
      realSamples: 0,
      realSplit: 'none',
      extractorName: 'classifier-mnist',
      extractorSha256: classifierSha256,
    });
    // Noise from a 2-step generator is far from digits, and no better than chance at being one.
    expect(evaluations.get('fid')!.value).toBeGreaterThan(1);
    expect(evaluations.get('is')!.value).toBeGreaterThanOrEqual(1);
    expect(evaluations.get('is')!.value).toBeLessThan(10);

    const checkpoint = await db.prisma.checkpoint.findFirstOrThrow({
      where: { runId: runId, step: 2 },
    });
    const inception = await createQueuedEvaluation(db.prisma, {
      runId: runId,
      checkpoint,
      datasetId: 'mnist',
      metric: 'fid',
      extractor: 'inception',
      generatedSamples: 20,
      realSamples: 20,
      realSplit: 'test',
    });
    const evaluationQueue = createEvaluationQueue(redis, prefix);
    await enqueueEvaluation(evaluationQueue, inception.id);
    await evaluationQueue.close();
    const failed = await waitFor(
      'the inception evaluation to finish',
      async () => {
        const row = await db.prisma.evaluation.findUniqueOrThrow({ where: { id: inception.id } });
        return ['completed', 'failed'].includes(row.status) ? row : undefined;
      },
      timeoutMs,
    );
    expect(failed).toMatchObject({
      status: 'failed',
      errorCode: 'GANFORGE_ERR_EXTRACTOR_UNAVAILABLE',
      value: null,
    });
  });
});
