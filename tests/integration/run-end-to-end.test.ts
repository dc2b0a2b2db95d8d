/**
 * The main job through every real component: a DCGAN run submitted over HTTP, trained by a
 * worker on the wasm backend, followed over the WebSocket to `completed`, then found again
 * through the API (scalars, a PNG grid of the right size, a checkpoint whose bytes match).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { PNG } from 'pngjs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { decodeCheckpoint } from '../../src/gan/checkpoint.js';
import { RunEventStream } from '../../src/queue/event-stream.js';
import type { RunEvent } from '../../src/queue/run-events.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let redis: Redis;
let app: FastifyInstance;
let worker: TrainingWorker;
let artifactsDir: string;
let baseUrl: string;
const prefix = `test-e2e-${process.pid}`;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  artifactsDir = await mkdtemp(path.join(tmpdir(), 'ganforge-e2e-'));
  const config = {
    ...loadConfig({}),
    databaseUrl: db.url,
    artifactsDir,
    prefix,
    host: '127.0.0.1',
    port: 0,
    backend: 'wasm' as const,
    logLevel: 'silent',
  };
  app = await buildApp({ config, prisma: db.prisma, redis, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  baseUrl = `127.0.0.1:${address.port}`;
  worker = await startTrainingWorker({
    config,
    prisma: db.prisma,
    redis,
    events: new RunEventStream(redis, { prefix, maxLen: 1000 }),
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await worker?.close();
  await app?.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.drop();
  await rm(artifactsDir, { recursive: true, force: true });
});

/** Collects a run's events from its WebSocket until `until` says stop. */
function streamEvents(
  runId: string,
  until: (event: RunEvent) => boolean,
  after?: string,
): Promise<RunEvent[]> {
  const query = after ? `?after=${after}` : '';
  const socket = new WebSocket(`ws://${baseUrl}/v1/runs/${runId}/stream${query}`);
  const seen: RunEvent[] = [];
  return new Promise((resolve, reject) => {
    socket.on('message', (data) => {
      const event = JSON.parse(String(data)) as RunEvent;
      seen.push(event);
      if (until(event)) {
        socket.close();
        resolve(seen);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(seen));
  });
}

const isTerminal = (e: RunEvent) =>
  e.kind === 'status' && ['completed', 'failed', 'cancelled', 'diverged'].includes(e.status);

describe('a DCGAN run end to end', () => {
  it('trains, streams its events in order and serves what it produced', async () => {
    const created = await request(app.server)
      .post('/v1/runs')
      .send({
        model: 'dcgan',
        dataset: 'mnist',
        seed: 5,
        steps: 4,
        batchSize: 8,
        logEvery: 1,
        sampleEvery: 2,
        checkpointEvery: 2,
        sampleCount: 16,
      })
      .expect(201);
    const runId: string = created.body.id;

    const events = await streamEvents(runId, isTerminal);

    const statuses = events.filter((e) => e.kind === 'status').map((e) => e.status);
    expect(statuses).toEqual(['queued', 'running', 'completed']);
    const seqs = events.map((e) => e.seq);
    expect([...seqs].sort(compareStreamIds)).toEqual(seqs);
    expect(events.filter((e) => e.kind === 'scalars').map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(events.filter((e) => e.kind === 'sample').map((e) => e.step)).toEqual([2, 4]);
    expect(events.filter((e) => e.kind === 'checkpoint').map((e) => e.step)).toEqual([2, 4]);

    const run = await request(app.server).get(`/v1/runs/${runId}`).expect(200);
    expect(run.body).toMatchObject({ status: 'completed', step: 4, backend: 'wasm' });

    const scalars = await request(app.server).get(`/v1/runs/${runId}/scalars`).expect(200);
    const serialized = JSON.stringify(scalars.body);
    for (const name of ['loss/d', 'loss/g']) expect(serialized).toContain(name);

    const samples = await request(app.server).get(`/v1/runs/${runId}/samples`).expect(200);
    const sampleList = samples.body.items;
    expect(sampleList.map((s: { step: number }) => s.step)).toEqual([2, 4]);
    const png = await request(app.server)
      .get(`/v1/runs/${runId}/samples/4.png`)
      .buffer(true)
      .expect(200)
      .expect('content-type', 'image/png');
    const image = PNG.sync.read(png.body as Buffer);
    // 16 images of 28x28 in a 4x4 grid, with the grid's padding on top.
    expect(image.width).toBe(sampleList[1].width);
    expect(image.width).toBeGreaterThanOrEqual(4 * 28);
    expect(image.height).toBe(image.width);

    const checkpoints = await request(app.server).get(`/v1/runs/${runId}/checkpoints`).expect(200);
    const checkpointList = checkpoints.body.items;
    const last = checkpointList.find((c: { step: number }) => c.step === 4);
    const file = await request(app.server)
      .get(`/v1/runs/${runId}/checkpoints/4/file`)
      .buffer(true)
      .expect(200);
    const bytes = file.body as Buffer;
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(last.sha256);
    expect(decodeCheckpoint(bytes)).toMatchObject({ step: 4, seed: 5 });
  });

  it('replays only the missed events to a client that reconnects with its last id', async () => {
    const created = await request(app.server)
      .post('/v1/runs')
      .send({ model: 'gan', dataset: 'mnist', seed: 6, steps: 6, batchSize: 8, logEvery: 1 })
      .expect(201);
    const runId: string = created.body.id;
    const all = await streamEvents(runId, isTerminal);

    const resumed = await streamEvents(runId, isTerminal, all[2].seq);

    expect(resumed.map((e) => e.seq)).toEqual(all.slice(3).map((e) => e.seq));
  });

  it('cancels a running run at the next step', async () => {
    const created = await request(app.server)
      .post('/v1/runs')
      .send({ model: 'gan', dataset: 'mnist', seed: 7, steps: 100000, batchSize: 8, logEvery: 1 })
      .expect(201);
    const runId: string = created.body.id;
    await streamEvents(runId, (e) => e.kind === 'scalars');

    await request(app.server).post(`/v1/runs/${runId}/cancel`).expect(202);
    const events = await streamEvents(runId, isTerminal);

    expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'cancelled' });
    const run = await request(app.server).get(`/v1/runs/${runId}`).expect(200);
    expect(run.body.status).toBe('cancelled');
    expect(run.body.step).toBeLessThan(100000);
    const again = await request(app.server).post(`/v1/runs/${runId}/cancel`).expect(409);
    expect(again.body.error.code).toBe('GANFORGE_ERR_RUN_FINISHED');
  });

  it('refuses a bad config with a coded error and creates nothing', async () => {
    const before = await db.prisma.run.count();

    const unknownModel = await request(app.server)
      .post('/v1/runs')
      .send({ model: 'biggan', dataset: 'mnist' })
      .expect(400);
    const badSteps = await request(app.server)
      .post('/v1/runs')
      .send({ model: 'dcgan', dataset: 'mnist', steps: -3 })
      .expect(400);

    expect(unknownModel.body.error.code).toBe('GANFORGE_ERR_UNKNOWN_MODEL');
    expect(badSteps.body.error.code).toBe('GANFORGE_ERR_VALIDATION');
    expect(await db.prisma.run.count()).toBe(before);
  });
});

describe('the Wasserstein models end to end', () => {
  it.each([
    ['wgan', {}, 28],
    ['wgan-gp', { imageSize: 32 }, 32],
  ] as const)(
    'trains a tiny %s run to completed and saves its samples',
    async (model, extra, side) => {
      const created = await request(app.server)
        .post('/v1/runs')
        .send({
          model,
          dataset: 'mnist',
          seed: 8,
          steps: 2,
          batchSize: 8,
          width: 4,
          logEvery: 1,
          sampleEvery: 1,
          checkpointEvery: 2,
          sampleCount: 4,
          ...extra,
        })
        .expect(201);
      const runId: string = created.body.id;

      const events = await streamEvents(runId, isTerminal);

      expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'completed' });
      const scalars = events.filter((e) => e.kind === 'scalars');
      expect(scalars.map((e) => e.step)).toEqual([1, 2]);
      const names = scalars.flatMap((e) => Object.keys(e.values));
      expect(names.includes('loss/gp')).toBe(model === 'wgan-gp');
      const samples = await request(app.server).get(`/v1/runs/${runId}/samples`).expect(200);
      expect(samples.body.items.map((s: { step: number }) => s.step)).toEqual([1, 2]);
      const png = await request(app.server)
        .get(`/v1/runs/${runId}/samples/2.png`)
        .buffer(true)
        .expect(200);
      const image = PNG.sync.read(png.body as Buffer);
      expect(image.width).toBeGreaterThanOrEqual(2 * side);
      expect(image.width).toBeLessThan(2 * side + 16);
      const file = await request(app.server)
        .get(`/v1/runs/${runId}/checkpoints/2/file`)
        .buffer(true)
        .expect(200);
      const state = decodeCheckpoint(file.body as Buffer);
      expect(state).toMatchObject({ step: 2, imageShape: { height: side, width: side } });
      expect(state.optimizers.discriminator.iterations).toBe(10);
    },
  );
});

describe('the growing and style-based models end to end', () => {
  it.each(['progan', 'stylegan2'] as const)(
    'trains a tiny %s run at 32x32 and logs the progressive phase',
    async (model) => {
      const created = await request(app.server)
        .post('/v1/runs')
        .send({
          model,
          dataset: 'mnist',
          seed: 9,
          steps: 2,
          batchSize: 4,
          width: 2,
          logEvery: 1,
          sampleEvery: 2,
          checkpointEvery: 2,
          sampleCount: 4,
          ...(model === 'progan' ? { stableSteps: 1, fadeSteps: 2 } : {}),
        })
        .expect(201);
      expect(created.body.config.imageSize).toBe(32);

      const events = await streamEvents(created.body.id, isTerminal);

      expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'completed' });
      const scalars = events.filter((e) => e.kind === 'scalars');
      const phases = scalars.map((e) => [e.values['phase/resolution'], e.values['phase/alpha']]);
      expect(phases).toEqual(
        model === 'progan'
          ? [
              [4, 1],
              [8, 0],
            ]
          : [
              [undefined, undefined],
              [undefined, undefined],
            ],
      );
    },
  );
});

function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
