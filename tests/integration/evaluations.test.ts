/**
 * Evaluations through the real queue, database and event stream: tiny MLP GAN runs trained by
 * the sandboxed training worker, evaluations scored by the evaluation worker with a small
 * deterministic extractor (tests/helpers/projection-extractor.ts). Every score asserted here is
 * recomputed from the stored checkpoint with the metric functions themselves.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { buildApp } from '../../src/api/app.js';
import { RunEventSchema } from '../../src/api/schemas/stream.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createQueuedEvaluation } from '../../src/db/evaluations.js';
import type { Evaluation } from '../../src/db/generated/client.js';
import { getDataset } from '../../src/data/datasets.js';
import { decodeCheckpoint } from '../../src/gan/checkpoint.js';
import { initEngine } from '../../src/gan/engine.js';
import { GanTrainer } from '../../src/gan/training.js';
import { frechetDistance } from '../../src/metrics/frechet-distance.js';
import { inceptionScore } from '../../src/metrics/inception-score.js';
import { parzenWindowEvaluation } from '../../src/metrics/parzen-window.js';
import { precisionRecall } from '../../src/metrics/precision-recall.js';
import { createEvaluationQueue, enqueueEvaluation } from '../../src/queue/evaluation-queue.js';
import { RunEventStream } from '../../src/queue/event-stream.js';
import { createTrainingQueue, enqueueTrainingRun } from '../../src/queue/training-queue.js';
import type { RunEvent } from '../../src/queue/run-events.js';
import { ArtifactStore } from '../../src/storage/artifacts.js';
import {
  extractGeneratedFeatures,
  generatedImageChunks,
  generatedPixels,
  pixelRows,
} from '../../src/worker/evaluation-samples.js';
import {
  startEvaluationWorker,
  type EvaluationWorker,
} from '../../src/worker/evaluation-worker.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { projectionDependencies, projectRealImages } from '../helpers/projection-extractor.js';
import { waitFor } from '../helpers/wait.js';

let db: TestDatabase;
let redis: Redis;
let app: FastifyInstance;
let config: Config;
let training: TrainingWorker;
let evaluation: EvaluationWorker;
let events: RunEventStream;
let artifactsDir: string;
const prefix = `test-evaluations-${process.pid}`;
const extractors = projectionDependencies();
const timeoutMs = 180_000;

beforeAll(async () => {
  await initEngine('wasm');
  db = await createTestDatabase();
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  artifactsDir = await mkdtemp(path.join(tmpdir(), 'ganforge-evaluations-'));
  config = {
    ...loadConfig({}),
    databaseUrl: db.url,
    artifactsDir,
    prefix,
    backend: 'wasm',
    logLevel: 'silent',
  };
  app = await buildApp({ config, prisma: db.prisma, redis, logger: false });
  await app.ready();
  events = new RunEventStream(redis, { prefix, maxLen: 1000 });
  const logger = pino({ level: 'silent' });
  training = await startTrainingWorker({ config, prisma: db.prisma, redis, events, logger });
  evaluation = await startEvaluationWorker({
    config,
    prisma: db.prisma,
    redis,
    events,
    extractors,
    logger,
  });
});

afterAll(async () => {
  await evaluation?.close();
  await training?.close();
  await app?.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.drop();
  await rm(artifactsDir, { recursive: true, force: true });
});

const tinyRun = {
  model: 'gan',
  dataset: 'mnist',
  seed: 11,
  batchSize: 8,
  width: 8,
  latentDim: 8,
  logEvery: 1,
  sampleEvery: 100,
  sampleCount: 16,
};

async function submitRun(overrides: Record<string, unknown>): Promise<string> {
  const created = await request(app.server)
    .post('/v1/runs')
    .send({ ...tinyRun, ...overrides })
    .expect(201);
  return created.body.id as string;
}

function runFinished(runId: string) {
  return waitFor(
    'the run to finish',
    async () => {
      const run = await db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
      return ['completed', 'failed', 'diverged'].includes(run.status) ? run : undefined;
    },
    timeoutMs,
  );
}

function evaluationFinished(id: string): Promise<Evaluation> {
  return waitFor(
    `evaluation ${id} to finish`,
    async () => {
      const row = await db.prisma.evaluation.findUniqueOrThrow({ where: { id } });
      return row.status === 'completed' || row.status === 'failed' ? row : undefined;
    },
    timeoutMs,
  );
}

async function evaluationEvents(
  runId: string,
): Promise<Extract<RunEvent, { kind: 'evaluation' }>[]> {
  return (await events.read(runId)).filter(
    (e): e is Extract<RunEvent, { kind: 'evaluation' }> => e.kind === 'evaluation',
  );
}

/** The event of one evaluation, which follows its row's update. */
function eventOf(runId: string, evaluationId: string) {
  return waitFor(`the event of evaluation ${evaluationId}`, async () =>
    (await evaluationEvents(runId)).find((e) => e.evaluationId === evaluationId),
  );
}

/** The checkpoint's trainer, restored from the stored file, as a client would. */
async function restoredTrainer(runId: string, step: number): Promise<GanTrainer> {
  const checkpoint = await db.prisma.checkpoint.findUniqueOrThrow({
    where: { runId_step: { runId, step } },
  });
  const bytes = await new ArtifactStore(artifactsDir).read(checkpoint.path);
  return GanTrainer.restore(decodeCheckpoint(bytes));
}

async function evaluate(runId: string, body: Record<string, unknown>): Promise<Evaluation> {
  const queued = await request(app.server)
    .post(`/v1/runs/${runId}/evaluations`)
    .send(body)
    .expect(202);
  return evaluationFinished(queued.body.id as string);
}

describe('on-demand evaluations', { timeout: 2 * timeoutMs }, () => {
  let runId: string;
  const mnistShape = getDataset('mnist').shape;

  beforeAll(async () => {
    runId = await submitRun({ steps: 4, checkpointEvery: 2 });
    expect((await runFinished(runId)).status).toBe('completed');
  });

  // 40 images are generated in chunks of 16, 16 and 8 (evaluationChunkSize).
  it('queues, scores the latest checkpoint, stores the protocol and publishes an event', async () => {
    const queued = await request(app.server)
      .post(`/v1/runs/${runId}/evaluations`)
      .send({ metric: 'fid', samples: 40, realSamples: 50 })
      .expect(202);
    expect(queued.body).toMatchObject({
      runId,
      step: 4,
      status: 'queued',
      metric: 'fid',
      dataset: 'mnist',
      extractor: 'classifier',
      generatedSamples: 40,
      realSamples: 50,
      realSplit: 'test',
      value: null,
    });

    const row = await evaluationFinished(queued.body.id);

    const extractor = await extractors.loadExtractor(
      { kind: 'classifier', datasetId: 'mnist' },
      { cacheDir: artifactsDir },
    );
    const trainer = await restoredTrainer(runId, 4);
    const generated = await extractGeneratedFeatures(
      generatedImageChunks(trainer, 40, mnistShape),
      extractor,
      40,
    );
    const real = await projectRealImages(extractor, 'mnist', 'test', 50);
    const expected = await frechetDistance(generated.features, real.features);
    trainer.dispose();
    extractor.dispose();

    expect(row).toMatchObject({
      status: 'completed',
      extractorName: 'projection-classifier',
      extractorSha256: extractor.sha256,
      resize: 'none',
      generatedSamples: 40,
      realSamples: 50,
      realSplit: 'test',
      datasetId: 'mnist',
      errorCode: null,
    });
    expect(expected.fid).toBeGreaterThan(0);
    expect(row.value).toBeCloseTo(expected.fid, 9);

    const event = await eventOf(runId, row.id);
    expect(event).toMatchObject({
      step: 4,
      metric: 'fid',
      status: 'completed',
      value: row.value,
      extractorName: 'projection-classifier',
      extractorSha256: extractor.sha256,
      generatedSamples: 40,
      realSamples: 50,
    });

    const listed = await request(app.server).get(`/v1/runs/${runId}/evaluations`).expect(200);
    expect(listed.body.items.map((e: { id: string }) => e.id)).toContain(row.id);
  });

  it('computes IS, precision/recall and the pixel-space Parzen window of an older checkpoint', async () => {
    const is = await evaluate(runId, { metric: 'is', step: 2, samples: 40 });
    const pr = await evaluate(runId, { metric: 'precision-recall', step: 2, samples: 40 });
    const parzen = await evaluate(runId, {
      metric: 'parzen',
      step: 2,
      samples: 40,
      realSamples: 30,
    });

    const extractor = await extractors.loadExtractor(
      { kind: 'classifier', datasetId: 'mnist' },
      { cacheDir: artifactsDir },
    );
    const trainer = await restoredTrainer(runId, 2);
    const generated = await extractGeneratedFeatures(
      generatedImageChunks(trainer, 40, mnistShape),
      extractor,
      40,
    );
    const real = await projectRealImages(extractor, 'mnist', 'test', 40);
    const pixels = await generatedPixels(generatedImageChunks(trainer, 40, mnistShape), 40);
    trainer.dispose();
    extractor.dispose();
    const [train, test] = await Promise.all([
      getDataset('mnist').load('train'),
      getDataset('mnist').load('test'),
    ]);
    const rows = (set: typeof train) => pixelRows(set.images.subarray(0, 30 * 784), 30, 784);

    const expectedIs = inceptionScore(generated.probabilities!, { splits: 10 });
    expect(is.status).toBe('completed');
    expect(is.value).toBeCloseTo(expectedIs.mean, 9);
    expect(is.result).toMatchObject({ std: expectedIs.std });

    const expectedPr = precisionRecall(real.features, generated.features, { k: 3 });
    expect(pr.value).toBeCloseTo(expectedPr.precision, 12);
    expect(pr.result).toMatchObject({ recall: expectedPr.recall, k: 3 });

    const expectedParzen = parzenWindowEvaluation(pixels, rows(train), rows(test));
    expect(parzen).toMatchObject({
      status: 'completed',
      extractor: 'pixels',
      extractorName: 'pixels',
      extractorSha256: null,
      realSplit: 'test',
      realSamples: 30,
    });
    expect(parzen.value).toBeCloseTo(expectedParzen.mean, 9);
    expect(parzen.result).toMatchObject({
      sigma: expectedParzen.sigma,
      standardError: expectedParzen.standardError,
    });
  });

  it('fails with a coded, unretried error when the extractor has no classifier head for IS', async () => {
    // The API refuses this pair (below); a row queued around it still fails cleanly on the worker.
    const checkpoint = await db.prisma.checkpoint.findUniqueOrThrow({
      where: { runId_step: { runId, step: 4 } },
    });
    const queued = await createQueuedEvaluation(db.prisma, {
      runId,
      checkpoint,
      datasetId: 'mnist',
      metric: 'is',
      extractor: 'inception',
      generatedSamples: 20,
      realSamples: 20,
      realSplit: 'test',
    });
    const queue = createEvaluationQueue(redis, prefix);
    await enqueueEvaluation(queue, queued.id);
    await queue.close();
    const row = await evaluationFinished(queued.id);

    expect(row).toMatchObject({ status: 'failed', errorCode: 'GANFORGE_ERR_METRIC_UNSUPPORTED' });
    // The row is failed before BullMQ records the job's end.
    const evaluationQueue = createEvaluationQueue(redis, prefix);
    const job = await waitFor('the job to fail', async () => {
      const found = await evaluationQueue.getJob(row.id);
      return found && (await found.isFailed()) ? found : undefined;
    });
    await evaluationQueue.close();
    expect(job.attemptsMade).toBe(1);
    const event = await eventOf(runId, row.id);
    expect(event).toMatchObject({
      status: 'failed',
      value: null,
      errorCode: 'GANFORGE_ERR_METRIC_UNSUPPORTED',
    });
  });

  it('names the crop of a padded run in the Parzen window protocol', async () => {
    const padded = await submitRun({ steps: 2, checkpointEvery: 2, imageSize: 32, seed: 13 });
    expect((await runFinished(padded)).status).toBe('completed');

    const row = await evaluate(padded, { metric: 'parzen', samples: 20, realSamples: 20 });

    expect(row).toMatchObject({ status: 'completed', extractorName: 'pixels' });
    expect(row.resize).toBe('center-crop-28');
    expect(Number.isFinite(row.value)).toBe(true);
  });

  it('fails a checkpoint whose file no longer matches its hash as corrupt', async () => {
    const other = await submitRun({ steps: 2, checkpointEvery: 2, seed: 12 });
    await runFinished(other);
    const checkpoint = await db.prisma.checkpoint.findUniqueOrThrow({
      where: { runId_step: { runId: other, step: 2 } },
    });
    await writeFile(path.join(artifactsDir, checkpoint.path), 'not a checkpoint');

    const row = await evaluate(other, { metric: 'fid', samples: 20 });

    expect(row).toMatchObject({ status: 'failed', errorCode: 'GANFORGE_ERR_CHECKPOINT_CORRUPT' });
  });

  it('refuses bad requests with coded errors', async () => {
    const post = (id: string, body: Record<string, unknown>) =>
      request(app.server).post(`/v1/runs/${id}/evaluations`).send(body);
    const unknownRun = '00000000-0000-0000-0000-000000000000';
    const queuedRun = await db.prisma.run.create({
      data: { model: 'gan', datasetId: 'mnist', config: {}, seed: 1, totalSteps: 1 },
    });

    const cases: [string, Record<string, unknown>, number, string][] = [
      [unknownRun, { metric: 'fid' }, 404, 'GANFORGE_ERR_RUN_NOT_FOUND'],
      [queuedRun.id, { metric: 'fid' }, 404, 'GANFORGE_ERR_CHECKPOINT_NOT_FOUND'],
      [runId, { metric: 'fid', step: 3 }, 404, 'GANFORGE_ERR_CHECKPOINT_NOT_FOUND'],
      [runId, { metric: 'bleu' }, 400, 'GANFORGE_ERR_VALIDATION'],
      [runId, { metric: 'fid', samples: 5 }, 400, 'GANFORGE_ERR_VALIDATION'],
      [runId, { metric: 'fid', split: 'test' }, 400, 'GANFORGE_ERR_VALIDATION'],
      [
        runId,
        { metric: 'parzen', extractor: 'classifier' },
        400,
        'GANFORGE_ERR_METRIC_UNSUPPORTED',
      ],
      [runId, { metric: 'parzen', realSplit: 'train' }, 400, 'GANFORGE_ERR_METRIC_UNSUPPORTED'],
      [runId, { metric: 'is', extractor: 'inception' }, 400, 'GANFORGE_ERR_METRIC_UNSUPPORTED'],
      [runId, { metric: 'is', realSamples: 100 }, 400, 'GANFORGE_ERR_METRIC_UNSUPPORTED'],
      [runId, { metric: 'is', realSplit: 'train' }, 400, 'GANFORGE_ERR_METRIC_UNSUPPORTED'],
      [runId, { metric: 'fid', realSamples: 10_001 }, 400, 'GANFORGE_ERR_METRIC_INPUT'],
    ];
    for (const [id, body, status, code] of cases) {
      const response = await post(id, body);
      expect([response.status, response.body.error?.code], JSON.stringify(body)).toEqual([
        status,
        code,
      ]);
    }
    expect(await db.prisma.evaluation.count({ where: { runId: queuedRun.id } })).toBe(0);
  });
});

describe('scheduled evaluations', { timeout: 2 * timeoutMs }, () => {
  it('are queued at the scheduled checkpoints and never hold training up', async () => {
    // With the evaluation worker paused, the run can only complete if training never waits.
    await evaluation.worker.pause();
    const runId = await submitRun({
      steps: 6,
      checkpointEvery: 2,
      evaluation: { every: 4, metrics: ['fid', 'is'], samples: 20 },
    });

    const run = await runFinished(runId);

    expect(run.status).toBe('completed');
    const served = await request(app.server).get(`/v1/runs/${runId}`).expect(200);
    expect(served.body.config.evaluation).toEqual(
      (run.config as { evaluation: unknown }).evaluation,
    );
    expect(run.config).toMatchObject({
      evaluation: {
        every: 4,
        metrics: ['fid', 'is'],
        samples: 20,
        extractor: 'classifier',
        realSamples: 20,
        realSplit: 'test',
      },
    });
    const queued = await db.prisma.evaluation.findMany({
      where: { runId },
      orderBy: [{ step: 'asc' }, { metric: 'asc' }],
    });
    // IS reads no real images: its rows say so, so one IS protocol ranks together.
    expect(queued.map((e) => [e.metric, e.realSamples, e.realSplit])).toEqual([
      ['fid', 20, 'test'],
      ['is', 0, 'none'],
      ['fid', 20, 'test'],
      ['is', 0, 'none'],
    ]);
    // Step 4 is scheduled, step 6 is the last; step 2 is a checkpoint but not scheduled.
    expect(queued.map((e) => [e.step, e.metric, e.status])).toEqual([
      [4, 'fid', 'queued'],
      [4, 'is', 'queued'],
      [6, 'fid', 'queued'],
      [6, 'is', 'queued'],
    ]);

    evaluation.worker.resume();
    const finished = await Promise.all(queued.map((e) => evaluationFinished(e.id)));

    expect(finished.every((e) => e.status === 'completed' && e.generatedSamples === 20)).toBe(true);
    // The row is written before its event is published.
    const streamed = await waitFor('four evaluation events', async () => {
      const seen = await evaluationEvents(runId);
      return seen.length === 4 ? seen : undefined;
    });
    expect(streamed.map((e) => [e.step, e.metric]).sort()).toEqual([
      [4, 'fid'],
      [4, 'is'],
      [6, 'fid'],
      [6, 'is'],
    ]);
    // Every event of the run, evaluations included, is what the documented RunEvent says.
    const all = await events.read(runId);
    expect(new Set(all.map((e) => e.kind))).toEqual(
      new Set(['status', 'scalars', 'sample', 'checkpoint', 'evaluation']),
    );
    expect(all.filter((e) => !Value.Check(RunEventSchema, e))).toEqual([]);
    // The IS of the last checkpoint, recomputed.
    const extractor = await extractors.loadExtractor(
      { kind: 'classifier', datasetId: 'mnist' },
      { cacheDir: artifactsDir },
    );
    const trainer = await restoredTrainer(runId, 6);
    const generated = await extractGeneratedFeatures(
      generatedImageChunks(trainer, 20, getDataset('mnist').shape),
      extractor,
      20,
    );
    trainer.dispose();
    extractor.dispose();
    const is = finished.find((e) => e.step === 6 && e.metric === 'is');
    expect(is?.value).toBeCloseTo(inceptionScore(generated.probabilities!, { splits: 10 }).mean, 9);
  });

  it('are queued again for the checkpoint a run resumes from when they were lost, and never twice', async () => {
    await evaluation.worker.pause();
    const schedule = { every: 2, metrics: ['fid', 'is'], samples: 20 };
    const runId = await submitRun({ steps: 4, checkpointEvery: 2, evaluation: schedule });
    const first = await runFinished(runId);
    expect(first.status).toBe('completed');

    // As if the worker had died after saving step 4's checkpoint and before queueing its
    // evaluations, with steps still to go: the run's job runs again from that checkpoint.
    const evaluationQueue = createEvaluationQueue(redis, prefix);
    const lost = await db.prisma.evaluation.findMany({ where: { runId, step: 4 } });
    expect(lost).toHaveLength(2);
    for (const row of lost) await evaluationQueue.remove(row.id);
    await db.prisma.evaluation.deleteMany({ where: { runId, step: 4 } });
    await db.prisma.run.update({
      where: { id: runId },
      data: {
        status: 'queued',
        totalSteps: 6,
        config: { ...(first.config as object), steps: 6 },
      },
    });
    const trainingQueue = createTrainingQueue(redis, prefix);
    await trainingQueue.remove(runId);
    await enqueueTrainingRun(trainingQueue, runId);
    await trainingQueue.close();
    const resumed = await waitFor(
      'the resumed run to finish',
      async () => {
        const run = await db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
        return run.status === 'completed' && run.step === 6 ? run : undefined;
      },
      timeoutMs,
    );

    expect(resumed.step).toBe(6);
    const rows = await db.prisma.evaluation.findMany({
      where: { runId },
      orderBy: [{ step: 'asc' }, { metric: 'asc' }],
    });
    expect(rows.map((e) => [e.step, e.metric, e.status])).toEqual([
      [2, 'fid', 'queued'],
      [2, 'is', 'queued'],
      [4, 'fid', 'queued'],
      [4, 'is', 'queued'],
      [6, 'fid', 'queued'],
      [6, 'is', 'queued'],
    ]);
    const jobs = await Promise.all(rows.map((e) => evaluationQueue.getJob(e.id)));
    expect(jobs.map((job) => job?.id)).toEqual(rows.map((e) => e.id));
    await evaluationQueue.close();

    evaluation.worker.resume();
    const finished = await Promise.all(rows.map((e) => evaluationFinished(e.id)));
    expect(finished.map((e) => e.status)).toEqual(rows.map(() => 'completed'));
  });

  it('refuses a schedule that does not land on checkpoints, naming the field', async () => {
    const response = await request(app.server)
      .post('/v1/runs')
      .send({
        ...tinyRun,
        steps: 6,
        checkpointEvery: 4,
        evaluation: { every: 6, metrics: ['fid'] },
      })
      .expect(400);
    expect(response.body.error).toMatchObject({
      code: 'GANFORGE_ERR_INVALID_CONFIG',
      details: { field: 'evaluation.every' },
    });
    const noProbabilities = await request(app.server)
      .post('/v1/runs')
      .send({
        ...tinyRun,
        evaluation: { every: 250, metrics: ['fid', 'is'], extractor: 'inception' },
      })
      .expect(400);
    expect(noProbabilities.body.error).toMatchObject({
      code: 'GANFORGE_ERR_INVALID_CONFIG',
      details: { field: 'evaluation.extractor' },
    });
    const tooMany = await request(app.server)
      .post('/v1/runs')
      .send({ ...tinyRun, evaluation: { every: 250, metrics: ['parzen'], realSamples: 20_000 } })
      .expect(400);
    expect(tooMany.body.error).toMatchObject({
      code: 'GANFORGE_ERR_INVALID_CONFIG',
      details: { field: 'evaluation.realSamples' },
    });
  });
});
