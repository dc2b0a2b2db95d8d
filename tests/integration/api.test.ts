import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp } from '../../src/api/app.js';
import { toErrorResponse } from '../../src/api/plugins/errors.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createPrismaClient } from '../../src/db/client.js';
import { GanforgeError } from '../../src/errors.js';
import { trainingDefaults } from '../../src/gan/training-config.js';
import { isCancellationRequested } from '../../src/queue/cancellation.js';
import { RunEventStream } from '../../src/queue/event-stream.js';
import type { RunEvent } from '../../src/queue/run-events.js';
import {
  createTrainingQueue,
  trainingQueueName,
  type TrainingQueue,
} from '../../src/queue/training-queue.js';
import { ArtifactStore } from '../../src/storage/artifacts.js';
import { checkpointArtifactPath, sampleArtifactPath } from '../../src/storage/run-artifacts.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const prefix = `gf-test-api-${randomUUID()}`;
let db: TestDatabase;
let redis: Redis;
let app: FastifyInstance;
let queue: TrainingQueue;
let events: RunEventStream;
let config: Config;
let baseUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    maxRetriesPerRequest: null,
  });
  const artifactsDir = await mkdtemp(path.join(tmpdir(), 'ganforge-api-'));
  config = { ...loadConfig({}), databaseUrl: db.url, artifactsDir, prefix, logLevel: 'silent' };
  app = await buildApp({ config, prisma: db.prisma, redis, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  queue = createTrainingQueue(redis, prefix);
  events = new RunEventStream(redis, { prefix, maxLen: config.eventsMaxLen });
});

afterAll(async () => {
  await app?.close();
  await queue?.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.drop();
  await rm(config.artifactsDir, { recursive: true, force: true });
});

const minimalRun = { model: 'gan', dataset: 'mnist' };

async function createRun(body: object = minimalRun): Promise<string> {
  const response = await request(app.server).post('/v1/runs').send(body).expect(201);
  return response.body.id;
}

async function counts() {
  const jobs = await queue.getJobCounts('waiting', 'active', 'delayed');
  return { runs: await db.prisma.run.count(), jobs: jobs.waiting + jobs.active + jobs.delayed };
}

describe('POST /v1/runs', () => {
  it('stores the resolved config, queues a job named by the run id and publishes queued', async () => {
    const response = await request(app.server)
      .post('/v1/runs')
      .send({ model: 'dcgan', dataset: 'mnist', seed: 42, steps: 500, sampleCount: 36 })
      .expect(201);
    const run = response.body;

    expect(run).toMatchObject({
      model: 'dcgan',
      dataset: 'mnist',
      status: 'queued',
      step: 0,
      totalSteps: 500,
      seed: 42,
      backend: null,
      startedAt: null,
    });
    expect(run.config).toEqual({
      ...trainingDefaults,
      model: 'dcgan',
      dataset: 'mnist',
      seed: 42,
      steps: 500,
      sampleCount: 36,
      width: 64,
      learningRate: 2e-4,
      beta1: 0.5,
      beta2: 0.999,
      nCritic: 1,
      emaDecay: 0.999,
      imageSize: 28,
      imageFit: 'none',
    });
    const row = await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } });
    expect(row.config).toEqual(run.config);

    const job = await queue.getJob(run.id);
    expect(job?.data).toEqual({ runId: run.id });
    expect(job?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 500 } });
    expect(job?.queueName).toBe(trainingQueueName);

    const published = await events.read(run.id);
    expect(published).toEqual([
      { kind: 'status', runId: run.id, step: 0, status: 'queued', seq: published[0].seq },
    ]);
  });

  it('stores the width a run asks for, and each model its own default', async () => {
    const sent = [
      [{ model: 'dcgan', dataset: 'mnist', width: 32 }, 32],
      [{ model: 'dcgan', dataset: 'mnist' }, 64],
      [{ model: 'gan', dataset: 'mnist' }, 256],
    ] as const;
    for (const [body, width] of sent) {
      const response = await request(app.server).post('/v1/runs').send(body).expect(201);
      expect(response.body.config.width).toBe(width);
    }
  });

  it('draws a random seed when none is given', async () => {
    const seeds = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const { body } = await request(app.server).post('/v1/runs').send(minimalRun).expect(201);
      expect(Number.isInteger(body.seed)).toBe(true);
      expect(body.config.seed).toBe(body.seed);
      seeds.add(body.seed);
    }
    expect(seeds.size).toBeGreaterThan(1);
  });

  it.each([
    ['an unknown model', { model: 'biggan', dataset: 'mnist' }, 'GANFORGE_ERR_UNKNOWN_MODEL'],
    ['an unknown dataset', { model: 'gan', dataset: 'cifar-99' }, 'GANFORGE_ERR_UNKNOWN_DATASET'],
    [
      'a non-square sample count',
      { ...minimalRun, sampleCount: 10 },
      'GANFORGE_ERR_INVALID_CONFIG',
    ],
    ['zero steps', { ...minimalRun, steps: 0 }, 'GANFORGE_ERR_VALIDATION'],
    ['too many steps', { ...minimalRun, steps: 1_000_001 }, 'GANFORGE_ERR_VALIDATION'],
    ['a batch over 1024', { ...minimalRun, batchSize: 2048 }, 'GANFORGE_ERR_VALIDATION'],
    ['a fractional batch', { ...minimalRun, batchSize: 6.5 }, 'GANFORGE_ERR_VALIDATION'],
    ['a zero learning rate', { ...minimalRun, learningRate: 0 }, 'GANFORGE_ERR_VALIDATION'],
    ['beta1 of 1', { ...minimalRun, beta1: 1 }, 'GANFORGE_ERR_VALIDATION'],
    ['a zero width', { ...minimalRun, width: 0 }, 'GANFORGE_ERR_VALIDATION'],
    ['steps as a string', { ...minimalRun, steps: '10' }, 'GANFORGE_ERR_VALIDATION'],
    ['steps as a boolean', { ...minimalRun, steps: true }, 'GANFORGE_ERR_VALIDATION'],
    ['steps as an array', { ...minimalRun, steps: [2] }, 'GANFORGE_ERR_VALIDATION'],
    ['a numeric model name', { model: 123, dataset: 'mnist' }, 'GANFORGE_ERR_VALIDATION'],
    ['a misspelt field', { ...minimalRun, stpes: 10 }, 'GANFORGE_ERR_VALIDATION'],
    ['no model', { dataset: 'mnist' }, 'GANFORGE_ERR_VALIDATION'],
  ])('refuses %s with its code and creates nothing', async (_case, body, code) => {
    const before = await counts();

    const response = await request(app.server).post('/v1/runs').send(body).expect(400);

    expect(response.body.error.code).toBe(code);
    expect(await counts()).toEqual(before);
  });

  it('fills in each model its own paper defaults and keeps what the request sets', async () => {
    const karrasAdam = { learningRate: 1e-3, beta1: 0, beta2: 0.99, nCritic: 1, emaDecay: 0.999 };
    const sent = [
      [
        { model: 'wgan', dataset: 'mnist' },
        { learningRate: 5e-5, nCritic: 5, clipValue: 0.01, emaDecay: 0.999, imageSize: 28 },
      ],
      [
        { model: 'wgan-gp', dataset: 'fashion-mnist', imageSize: 32, emaDecay: 0 },
        {
          learningRate: 1e-4,
          beta1: 0,
          beta2: 0.9,
          nCritic: 5,
          gradientPenalty: 10,
          emaDecay: 0,
          imageSize: 32,
        },
      ],
      [
        { model: 'wgan-gp', dataset: 'mnist', gradientPenalty: 5, nCritic: 2 },
        { gradientPenalty: 5, nCritic: 2, beta2: 0.9 },
      ],
      [
        { model: 'progan', dataset: 'mnist' },
        { ...karrasAdam, width: 16, imageSize: 32, stableSteps: 100, fadeSteps: 100 },
      ],
      [
        { model: 'stylegan', dataset: 'mnist' },
        { ...karrasAdam, width: 16, imageSize: 32, r1Gamma: 10 },
      ],
      [
        { model: 'stylegan2', dataset: 'fashion-mnist', r1Gamma: 5 },
        { ...karrasAdam, width: 16, imageSize: 32, r1Gamma: 5 },
      ],
    ] as const;
    for (const [body, expected] of sent) {
      const response = await request(app.server).post('/v1/runs').send(body).expect(201);
      expect(response.body.config).toMatchObject({ ...body, ...expected });
    }
    const wgan = await request(app.server).post('/v1/runs').send(sent[0][0]).expect(201);
    for (const key of ['beta1', 'beta2', 'gradientPenalty']) {
      expect(wgan.body.config).not.toHaveProperty(key);
    }
  });

  it.each([
    ['clipValue', 'dcgan', { clipValue: 0.01 }],
    ['gradientPenalty', 'wgan', { gradientPenalty: 10 }],
    ['beta1', 'wgan', { beta1: 0.5 }],
    ['clipValue', 'wgan-gp', { clipValue: 0.01 }],
    ['r1Gamma', 'dcgan', { r1Gamma: 10 }],
    ['r1Gamma', 'progan', { r1Gamma: 10 }],
    ['stableSteps', 'stylegan', { stableSteps: 10 }],
  ])(
    'refuses %s for %s with GANFORGE_ERR_INVALID_CONFIG naming it',
    async (field, model, extra) => {
      const before = await counts();

      const response = await request(app.server)
        .post('/v1/runs')
        .send({ model, dataset: 'mnist', ...extra })
        .expect(400);

      expect(response.body.error).toMatchObject({
        code: 'GANFORGE_ERR_INVALID_CONFIG',
        details: { field, model },
      });
      expect(await counts()).toEqual(before);
    },
  );

  it.each([
    ['nCritic', { model: 'wgan', nCritic: 0 }],
    ['nCritic', { model: 'wgan', nCritic: 1.5 }],
    ['clipValue', { model: 'wgan', clipValue: 0 }],
    ['clipValue', { model: 'wgan', clipValue: 2 }],
    ['gradientPenalty', { model: 'wgan-gp', gradientPenalty: -1 }],
    ['emaDecay', { model: 'dcgan', emaDecay: 1 }],
    ['imageSize', { model: 'dcgan', imageSize: 5000 }],
    ['critic', { model: 'wgan', critic: 'mlp' }],
  ])(
    'refuses an out-of-range or unknown %s with GANFORGE_ERR_VALIDATION naming it',
    async (field, body) => {
      const response = await request(app.server)
        .post('/v1/runs')
        .send({ dataset: 'mnist', ...body })
        .expect(400);

      expect(response.body.error.code).toBe('GANFORGE_ERR_VALIDATION');
      expect(response.body.error.details.issues).toContainEqual({
        path: `/${field}`,
        message: expect.any(String),
      });
      // The same `field` as the config rules' GANFORGE_ERR_INVALID_CONFIG.
      expect(response.body.error.details.field).toBe(field);
    },
  );

  it.each([
    ['smaller than the images', { model: 'dcgan', imageSize: 24 }, /smaller than/],
    ['not divisible by 4 for dcgan', { model: 'wgan-gp', imageSize: 30 }, /divisible by 4/],
    ['not a power of two for a growing model', { model: 'stylegan2', imageSize: 48 }, /power/],
    ['of 30 for a growing model', { model: 'progan', imageSize: 30 }, /power of two/],
  ])('refuses an imageSize %s', async (_case, body, message) => {
    const response = await request(app.server)
      .post('/v1/runs')
      .send({ dataset: 'mnist', ...body })
      .expect(400);

    expect(response.body.error).toMatchObject({
      code: 'GANFORGE_ERR_INVALID_CONFIG',
      details: { field: 'imageSize' },
    });
    expect(response.body.error.message).toMatch(message);
  });

  it('refuses a batch larger than the dataset training split', async () => {
    await db.prisma.dataset.create({
      data: {
        id: 'tiny',
        description: 'test rows',
        width: 4,
        height: 4,
        channels: 1,
        trainCount: 10,
        testCount: 2,
      },
    });
    const before = await counts();

    const response = await request(app.server)
      .post('/v1/runs')
      .send({ model: 'gan', dataset: 'tiny', batchSize: 16 })
      .expect(400);

    expect(response.body.error).toMatchObject({
      code: 'GANFORGE_ERR_INVALID_CONFIG',
      details: { field: 'batchSize' },
    });
    expect(await counts()).toEqual(before);
  });

  it('says where a validation error is', async () => {
    const response = await request(app.server)
      .post('/v1/runs')
      .send({ ...minimalRun, steps: 'many' })
      .expect(400);

    expect(response.body.error.details).toEqual({
      context: 'body',
      field: 'steps',
      issues: [{ path: '/steps', message: expect.any(String) }],
    });
  });

  it('refuses malformed JSON with a coded error', async () => {
    const response = await request(app.server)
      .post('/v1/runs')
      .set('content-type', 'application/json')
      .send('{"model": ')
      .expect(400);

    expect(response.body.error.code).toBe('GANFORGE_ERR_VALIDATION');
  });
});

describe('GET /v1/runs', () => {
  let ids: string[];

  beforeAll(async () => {
    await db.prisma.run.deleteMany();
    ids = [];
    const base = Date.parse('2026-01-01T00:00:00Z');
    const specs = [
      ['gan', 'completed'],
      ['dcgan', 'completed'],
      ['gan', 'failed'],
      ['dcgan', 'queued'],
      ['gan', 'queued'],
    ] as const;
    for (const [i, [model, status]] of specs.entries()) {
      const run = await db.prisma.run.create({
        data: {
          model,
          datasetId: 'mnist',
          config: { ...trainingDefaults, model, dataset: 'mnist', seed: i },
          seed: i,
          status,
          totalSteps: 10,
          // Two runs share a timestamp: the id orders them, and paging must not lose either.
          createdAt: new Date(base + Math.min(i, 3) * 1000),
        },
      });
      ids.push(run.id);
    }
  });

  it('lists newest first, filtered by status, model and dataset', async () => {
    const all = await request(app.server).get('/v1/runs').expect(200);
    const completed = await request(app.server).get('/v1/runs?status=completed').expect(200);
    const gans = await request(app.server).get('/v1/runs?model=gan').expect(200);
    const both = await request(app.server).get('/v1/runs?model=gan&status=queued').expect(200);
    const none = await request(app.server).get('/v1/runs?dataset=tiny').expect(200);

    expect(all.body.items).toHaveLength(5);
    expect(all.body.items[2].seed).toBe(2);
    expect(all.body.items.slice(2).map((r: { seed: number }) => r.seed)).toEqual([2, 1, 0]);
    expect(all.body.nextCursor).toBeNull();
    expect(completed.body.items.map((r: { seed: number }) => r.seed)).toEqual([1, 0]);
    expect(gans.body.items.map((r: { model: string }) => r.model)).toEqual(['gan', 'gan', 'gan']);
    expect(both.body.items.map((r: { seed: number }) => r.seed)).toEqual([4]);
    expect(none.body.items).toEqual([]);
  });

  it('pages with a cursor without losing or repeating runs', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await request(app.server).get(`/v1/runs?limit=2${query}`).expect(200);
      seen.push(...page.body.items.map((r: { id: string }) => r.id));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor);

    expect(pages).toBe(3);
    const all = await request(app.server).get('/v1/runs').expect(200);
    expect(seen).toEqual(all.body.items.map((r: { id: string }) => r.id));
    expect(new Set(seen)).toEqual(new Set(ids));
  });

  it('refuses a bad cursor, limit or status with GANFORGE_ERR_VALIDATION', async () => {
    for (const query of ['cursor=bm9wZQ', 'limit=0', 'limit=101', 'status=sleeping', 'sort=up']) {
      const response = await request(app.server).get(`/v1/runs?${query}`).expect(400);
      expect(response.body.error.code).toBe('GANFORGE_ERR_VALIDATION');
    }
  });
});

describe('runs by id', () => {
  it('answers 404 GANFORGE_ERR_RUN_NOT_FOUND for unknown and malformed ids', async () => {
    for (const id of [randomUUID(), 'not-a-uuid']) {
      for (const url of [`/v1/runs/${id}`, `/v1/runs/${id}/samples`, `/v1/runs/${id}/scalars`]) {
        const response = await request(app.server).get(url).expect(404);
        expect(response.body.error.code).toBe('GANFORGE_ERR_RUN_NOT_FOUND');
      }
      const cancel = await request(app.server).post(`/v1/runs/${id}/cancel`).expect(404);
      expect(cancel.body.error.code).toBe('GANFORGE_ERR_RUN_NOT_FOUND');
    }
  });

  it.each([
    ['a malformed percent escape', '/v1/runs/%zz'],
    ['an overlong id', `/v1/runs/${'a'.repeat(200)}`],
    ['a NUL in an id', '/v1/runs/abc%00def/samples'],
    ['a NUL in a filter', '/v1/runs?model=dc%00gan'],
  ])('refuses %s in the URL with GANFORGE_ERR_VALIDATION', async (_case, url) => {
    const response = await request(app.server).get(url).expect(400);

    expect(response.body.error.code).toBe('GANFORGE_ERR_VALIDATION');
  });

  it('answers unknown routes with GANFORGE_ERR_NOT_FOUND', async () => {
    const response = await request(app.server).get('/v1/nothing').expect(404);
    expect(response.body.error.code).toBe('GANFORGE_ERR_NOT_FOUND');
  });

  it('returns a run by id', async () => {
    const id = await createRun();
    const response = await request(app.server).get(`/v1/runs/${id}`).expect(200);
    expect(response.body).toMatchObject({ id, status: 'queued', model: 'gan' });
  });
});

describe('POST /v1/runs/:id/cancel', () => {
  it('cancels a queued run at once and removes its job', async () => {
    const id = await createRun();
    expect(await queue.getJob(id)).toBeDefined();

    const response = await request(app.server).post(`/v1/runs/${id}/cancel`).expect(200);

    expect(response.body).toMatchObject({ id, status: 'cancelled' });
    expect(response.body.finishedAt).not.toBeNull();
    expect(await queue.getJob(id)).toBeUndefined();
    const published = await events.read(id);
    expect(published.map((e) => (e.kind === 'status' ? e.status : e.kind))).toEqual([
      'queued',
      'cancelled',
    ]);
  });

  it('refuses to cancel a finished run with 409 GANFORGE_ERR_RUN_FINISHED', async () => {
    const id = await createRun();
    await request(app.server).post(`/v1/runs/${id}/cancel`).expect(200);
    const again = await request(app.server).post(`/v1/runs/${id}/cancel`).expect(409);
    expect(again.body.error.code).toBe('GANFORGE_ERR_RUN_FINISHED');

    const completed = await createRun();
    await db.prisma.run.update({ where: { id: completed }, data: { status: 'completed' } });
    const done = await request(app.server).post(`/v1/runs/${completed}/cancel`).expect(409);
    expect(done.body.error.code).toBe('GANFORGE_ERR_RUN_FINISHED');
  });

  it('asks the worker to stop a running run and answers 202', async () => {
    const id = await createRun();
    await db.prisma.run.update({ where: { id }, data: { status: 'running' } });

    const response = await request(app.server).post(`/v1/runs/${id}/cancel`).expect(202);

    expect(response.body.status).toBe('running');
    expect(await isCancellationRequested(redis, prefix, id)).toBe(true);
  });

  it('falls back to asking the worker when a worker took the job a moment ago', async () => {
    await queue.drain();
    const id = await createRun();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let taken: () => void = () => undefined;
    const takenJob = new Promise<void>((resolve) => (taken = resolve));
    const worker = new Worker(
      trainingQueueName,
      async () => {
        taken();
        await held;
      },
      { connection: redis.duplicate(), prefix },
    );
    await takenJob;

    // The run row still says queued (the worker has not updated it), but the job is locked.
    const response = await request(app.server).post(`/v1/runs/${id}/cancel`).expect(202);

    expect(response.body.status).toBe('queued');
    expect(await isCancellationRequested(redis, prefix, id)).toBe(true);
    release();
    await worker.close();
  });
});

describe('GET /v1/runs/:id/scalars', () => {
  let id: string;

  beforeAll(async () => {
    id = await createRun();
    const names = ['loss/d', 'loss/g', 'steps_per_second'];
    const rows = [];
    for (let step = 1; step <= 400; step++) {
      for (const [i, name] of names.entries())
        rows.push({ runId: id, step, name, value: step + i / 10 });
    }
    await db.prisma.scalar.createMany({ data: rows });
  });

  it('groups values into one series per name', async () => {
    const response = await request(app.server)
      .get(`/v1/runs/${id}/scalars?name=loss/d&name=loss/g&since=398`)
      .expect(200);

    expect(response.body).toEqual({
      series: [
        { name: 'loss/d', steps: [398, 399, 400], values: [398, 399, 400] },
        { name: 'loss/g', steps: [398, 399, 400], values: [398.1, 399.1, 400.1] },
      ],
      nextSince: null,
    });
  });

  it('pages at whole steps and continues from nextSince', async () => {
    const first = await request(app.server).get(`/v1/runs/${id}/scalars?limit=1000`).expect(200);
    // 1000 values would cut step 334 after one of its three names: the page stops at 333.
    expect(first.body.nextSince).toBe(334);
    for (const series of first.body.series) expect(series.steps).toHaveLength(333);

    const second = await request(app.server)
      .get(`/v1/runs/${id}/scalars?limit=1000&since=334`)
      .expect(200);
    expect(second.body.nextSince).toBeNull();
    for (const series of second.body.series) {
      expect(series.steps[0]).toBe(334);
      expect(series.steps).toHaveLength(67);
    }
  });
});

describe('samples and checkpoints', () => {
  let id: string;
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const checkpoint = Buffer.from('checkpoint bytes for the test');

  beforeAll(async () => {
    id = await createRun();
    const store = new ArtifactStore(config.artifactsDir);
    const sample = await store.put(sampleArtifactPath(id, 100), png);
    const saved = await store.put(checkpointArtifactPath(id, 250), checkpoint);
    await db.prisma.sample.createMany({
      data: [
        { runId: id, step: 100, path: sample.path, width: 242, height: 242 },
        // A row whose file is gone (the store was cleaned by hand).
        { runId: id, step: 200, path: sampleArtifactPath(id, 200), width: 242, height: 242 },
      ],
    });
    await db.prisma.checkpoint.create({
      data: { runId: id, step: 250, path: saved.path, sha256: saved.sha256, bytes: saved.bytes },
    });
  });

  it('lists samples with their URLs and serves the PNG', async () => {
    const list = await request(app.server).get(`/v1/runs/${id}/samples`).expect(200);
    expect(list.body.items.map((s: { step: number; url: string }) => [s.step, s.url])).toEqual([
      [100, `/v1/runs/${id}/samples/100.png`],
      [200, `/v1/runs/${id}/samples/200.png`],
    ]);

    const file = await request(app.server)
      .get(`/v1/runs/${id}/samples/100.png`)
      .buffer(true)
      .expect(200)
      .expect('content-type', 'image/png');
    expect(Buffer.compare(file.body as Buffer, png)).toBe(0);
  });

  it('lists checkpoints with hash and size and serves the file', async () => {
    const list = await request(app.server).get(`/v1/runs/${id}/checkpoints`).expect(200);
    const [entry] = list.body.items;
    expect(list.body.items).toHaveLength(1);
    expect(entry).toMatchObject({
      step: 250,
      bytes: checkpoint.length,
      url: `/v1/runs/${id}/checkpoints/250/file`,
    });

    const file = await request(app.server)
      .get(entry.url)
      .buffer(true)
      .expect(200)
      .expect('content-type', 'application/octet-stream')
      .expect('etag', `"${entry.sha256}"`);
    expect(Buffer.compare(file.body as Buffer, checkpoint)).toBe(0);
  });

  it('answers missing steps and missing files with their codes, without disk paths', async () => {
    const noSample = await request(app.server).get(`/v1/runs/${id}/samples/300.png`).expect(404);
    const noFile = await request(app.server).get(`/v1/runs/${id}/samples/200.png`).expect(404);
    const noCheckpoint = await request(app.server)
      .get(`/v1/runs/${id}/checkpoints/1/file`)
      .expect(404);
    const badStep = await request(app.server).get(`/v1/runs/${id}/samples/abc.png`).expect(400);

    expect(noSample.body.error.code).toBe('GANFORGE_ERR_NOT_FOUND');
    expect(noFile.body.error.code).toBe('GANFORGE_ERR_ARTIFACT_NOT_FOUND');
    expect(JSON.stringify(noFile.body)).not.toContain(config.artifactsDir);
    expect(noCheckpoint.body.error.code).toBe('GANFORGE_ERR_NOT_FOUND');
    expect(badStep.body.error.code).toBe('GANFORGE_ERR_VALIDATION');
  });

  it.each([
    ['a sample step', (id: string) => `/v1/runs/${id}/samples/2147483648.png`],
    ['a checkpoint step', (id: string) => `/v1/runs/${id}/checkpoints/99999999999/file`],
    ['a scalars cursor', (id: string) => `/v1/runs/${id}/scalars?since=99999999999`],
  ])('refuses %s past any run length with GANFORGE_ERR_VALIDATION', async (_case, url) => {
    const response = await request(app.server).get(url(id)).expect(400);

    expect(response.body.error.code).toBe('GANFORGE_ERR_VALIDATION');
  });
});

describe('GET /v1/datasets and /healthz', () => {
  it('lists the built-in datasets', async () => {
    const response = await request(app.server).get('/v1/datasets').expect(200);
    expect(response.body.items).toContainEqual({
      id: 'mnist',
      description: expect.any(String),
      width: 28,
      height: 28,
      channels: 1,
      trainCount: 60000,
      testCount: 10000,
    });
    expect(response.body.items).toContainEqual(
      expect.objectContaining({ id: 'fashion-mnist', width: 28, height: 28, channels: 1 }),
    );
  });

  it('reports healthy when database and Redis answer', async () => {
    const response = await request(app.server).get('/healthz').expect(200);
    expect(response.body).toEqual({ status: 'ok', checks: { database: 'ok', redis: 'ok' } });
  });

  it('answers 503 GANFORGE_ERR_UNAVAILABLE when the database is down', async () => {
    const missing = createPrismaClient('postgresql://postgres@127.0.0.1:5432/ganforge_no_such_db');
    const broken = await buildApp({ config, prisma: missing, redis, logger: false });
    await broken.ready();

    const response = await request(broken.server).get('/healthz').expect(503);

    expect(response.body.error).toEqual({
      code: 'GANFORGE_ERR_UNAVAILABLE',
      message: expect.any(String),
      details: { database: 'down', redis: 'ok' },
    });
    await broken.close();
    await missing.$disconnect();
  });
});

/** Opens a run's stream and collects messages until the server closes it or `count` arrive. */
function follow(runId: string, options: { query?: string; headers?: Record<string, string> } = {}) {
  const socket = new WebSocket(`${baseUrl}/v1/runs/${runId}/stream${options.query ?? ''}`, {
    headers: options.headers,
  });
  const received: RunEvent[] = [];
  socket.on('message', (data) => received.push(JSON.parse(String(data)) as RunEvent));
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  const opened = new Promise<void>((resolve, reject) => {
    socket.on('open', () => resolve());
    socket.on('error', reject);
  });
  async function until(count: number): Promise<RunEvent[]> {
    const deadline = Date.now() + 5000;
    while (received.length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return received;
  }
  return { socket, received, closed, opened, until };
}

describe('WebSocket /v1/runs/:id/stream', () => {
  function scalars(runId: string, step: number) {
    return { kind: 'scalars' as const, runId, step, values: { 'loss/d': 1 / step } };
  }

  it('sends missed then live events in order and closes after the terminal status', async () => {
    const id = await createRun();
    await events.publish(scalars(id, 1));
    const client = follow(id);
    await client.opened;
    await events.publish(scalars(id, 2));
    await events.publish({ kind: 'log', runId: id, step: 2, level: 'info', message: 'hello' });
    await events.publish({ kind: 'status', runId: id, step: 2, status: 'completed' });

    expect(await client.closed).toBe(1000);
    const kinds = client.received.map((e) => (e.kind === 'status' ? e.status : e.kind));
    expect(kinds).toEqual(['queued', 'scalars', 'scalars', 'log', 'completed']);
    expect(client.received.map((e) => e.seq)).toEqual((await events.read(id)).map((e) => e.seq));
  });

  it('resumes after the seq a client saw, by query or by Last-Event-ID', async () => {
    const id = await createRun();
    for (let step = 1; step <= 4; step++) await events.publish(scalars(id, step));
    const first = follow(id);
    const seen = await first.until(5);
    first.socket.close();
    await first.closed;
    for (let step = 5; step <= 6; step++) await events.publish(scalars(id, step));

    const byQuery = follow(id, { query: `?after=${seen[2].seq}` });
    const byHeader = follow(id, { headers: { 'last-event-id': seen[4].seq } });

    expect((await byQuery.until(4)).map((e) => e.step)).toEqual([3, 4, 5, 6]);
    expect((await byHeader.until(2)).map((e) => e.step)).toEqual([5, 6]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(byQuery.received).toHaveLength(4);
    byQuery.socket.close();
    byHeader.socket.close();
  });

  it('closes at once for a finished run the client has seen to the end', async () => {
    const id = await createRun();
    await db.prisma.run.update({ where: { id }, data: { status: 'failed' } });
    const done = await events.publish({ kind: 'status', runId: id, step: 0, status: 'failed' });

    const client = follow(id, { query: `?after=${done.seq}` });

    expect(await client.closed).toBe(1000);
    expect(client.received).toEqual([]);
  });

  it('refuses unknown runs with 404 and malformed seqs with 400 before upgrading', async () => {
    const statusOf = (url: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(url);
        socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.on('open', () => reject(new Error('upgraded')));
      });
    const id = await createRun();

    expect(await statusOf(`${baseUrl}/v1/runs/${randomUUID()}/stream`)).toBe(404);
    expect(await statusOf(`${baseUrl}/v1/runs/${id}/stream?after=yesterday`)).toBe(400);
  });

  it('drops a client that stops reading, with 1013, instead of buffering for it', async () => {
    const id = await createRun();
    const client = follow(id);
    await client.opened;
    await client.until(1);
    // Stop reading: the server's send buffer fills once the kernel buffers are full.
    (client.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 300; i++) {
      await events.publish({ kind: 'log', runId: id, step: i, level: 'info', message: big });
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    (client.socket as unknown as { _socket: { resume(): void } })._socket.resume();

    expect(await client.closed).toBe(1013);
    expect(client.received.length).toBeLessThan(301);
  });
});

describe('error answers', () => {
  it('never shows the internals of an unexpected error', () => {
    const answer = toErrorResponse(
      new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2'),
    );

    expect(answer).toEqual({
      status: 500,
      body: { error: { code: 'GANFORGE_ERR_INTERNAL', message: 'internal server error' } },
    });
  });

  it('keeps a coded 500 message but drops its details, which may hold a cause', () => {
    const err = new GanforgeError('GANFORGE_ERR_CHECKPOINT_CORRUPT', 'checkpoint hash mismatch', {
      cause: '/srv/artifacts/runs/x',
    });

    expect(toErrorResponse(err)).toEqual({
      status: 500,
      body: {
        error: { code: 'GANFORGE_ERR_CHECKPOINT_CORRUPT', message: 'checkpoint hash mismatch' },
      },
    });
  });
});
