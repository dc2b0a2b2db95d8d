/**
 * The main job through every real component: a DCGAN run submitted over HTTP, trained by a
 * worker on the wasm backend, followed over the WebSocket to `completed`, then found again
 * through the API (scalars, a PNG grid of the right size, a checkpoint whose bytes match).
 * Every model on every dataset goes the same way in model-runs.test.ts.
 */
import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/gan/checkpoint.js';
import type { RunEvent } from '../../src/queue/run-events.js';
import { isTerminal, startApiStack, streamEvents, type ApiStack } from '../helpers/api-stack.js';

let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack('e2e');
});

afterAll(async () => {
  await stack?.close();
});

/** The run's events from its WebSocket, until `until` says stop. */
const follow = (runId: string, until: (event: RunEvent) => boolean, after?: string) =>
  streamEvents(stack.baseUrl, runId, until, after);

describe('a DCGAN run end to end', () => {
  it('trains, streams its events in order and serves what it produced', async () => {
    const created = await request(stack.app.server)
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

    const events = await follow(runId, isTerminal);

    const statuses = events.filter((e) => e.kind === 'status').map((e) => e.status);
    expect(statuses).toEqual(['queued', 'running', 'completed']);
    const seqs = events.map((e) => e.seq);
    expect([...seqs].sort(compareStreamIds)).toEqual(seqs);
    expect(events.filter((e) => e.kind === 'scalars').map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(events.filter((e) => e.kind === 'sample').map((e) => e.step)).toEqual([2, 4]);
    expect(events.filter((e) => e.kind === 'checkpoint').map((e) => e.step)).toEqual([2, 4]);

    const run = await request(stack.app.server).get(`/v1/runs/${runId}`).expect(200);
    expect(run.body).toMatchObject({ status: 'completed', step: 4, backend: 'wasm' });

    const scalars = await request(stack.app.server).get(`/v1/runs/${runId}/scalars`).expect(200);
    const serialized = JSON.stringify(scalars.body);
    for (const name of ['loss/d', 'loss/g']) expect(serialized).toContain(name);

    const samples = await request(stack.app.server).get(`/v1/runs/${runId}/samples`).expect(200);
    const sampleList = samples.body.items;
    expect(sampleList.map((s: { step: number }) => s.step)).toEqual([2, 4]);
    const png = await request(stack.app.server)
      .get(`/v1/runs/${runId}/samples/4.png`)
      .buffer(true)
      .expect(200)
      .expect('content-type', 'image/png');
    const image = PNG.sync.read(png.body as Buffer);
    // 16 images of 28x28 in a 4x4 grid, with the grid's padding on top.
    expect(image.width).toBe(sampleList[1].width);
    expect(image.width).toBeGreaterThanOrEqual(4 * 28);
    expect(image.height).toBe(image.width);

    const checkpoints = await request(stack.app.server)
      .get(`/v1/runs/${runId}/checkpoints`)
      .expect(200);
    const checkpointList = checkpoints.body.items;
    const last = checkpointList.find((c: { step: number }) => c.step === 4);
    const file = await request(stack.app.server)
      .get(`/v1/runs/${runId}/checkpoints/4/file`)
      .buffer(true)
      .expect(200);
    const bytes = file.body as Buffer;
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(last.sha256);
    expect(decodeCheckpoint(bytes)).toMatchObject({ step: 4, seed: 5 });
  });

  it('replays only the missed events to a client that reconnects with its last id', async () => {
    const created = await request(stack.app.server)
      .post('/v1/runs')
      .send({ model: 'gan', dataset: 'mnist', seed: 6, steps: 6, batchSize: 8, logEvery: 1 })
      .expect(201);
    const runId: string = created.body.id;
    const all = await follow(runId, isTerminal);

    const resumed = await follow(runId, isTerminal, all[2].seq);

    expect(resumed.map((e) => e.seq)).toEqual(all.slice(3).map((e) => e.seq));
  });

  it('cancels a running run at the next step', async () => {
    const created = await request(stack.app.server)
      .post('/v1/runs')
      .send({ model: 'gan', dataset: 'mnist', seed: 7, steps: 100000, batchSize: 8, logEvery: 1 })
      .expect(201);
    const runId: string = created.body.id;
    await follow(runId, (e) => e.kind === 'scalars');

    await request(stack.app.server).post(`/v1/runs/${runId}/cancel`).expect(202);
    const events = await follow(runId, isTerminal);

    expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'cancelled' });
    const run = await request(stack.app.server).get(`/v1/runs/${runId}`).expect(200);
    expect(run.body.status).toBe('cancelled');
    expect(run.body.step).toBeLessThan(100000);
    // Its last steps are kept in a checkpoint (the next scheduled one was 250 steps away).
    const checkpoints = await request(stack.app.server)
      .get(`/v1/runs/${runId}/checkpoints`)
      .expect(200);
    expect(checkpoints.body.items.map((c: { step: number }) => c.step)).toEqual([run.body.step]);
    const again = await request(stack.app.server).post(`/v1/runs/${runId}/cancel`).expect(409);
    expect(again.body.error.code).toBe('GANFORGE_ERR_RUN_FINISHED');
  });

  it('refuses a bad config with a coded error and creates nothing', async () => {
    const before = await stack.db.prisma.run.count();

    const unknownModel = await request(stack.app.server)
      .post('/v1/runs')
      .send({ model: 'biggan', dataset: 'mnist' })
      .expect(400);
    const badSteps = await request(stack.app.server)
      .post('/v1/runs')
      .send({ model: 'dcgan', dataset: 'mnist', steps: -3 })
      .expect(400);

    expect(unknownModel.body.error.code).toBe('GANFORGE_ERR_UNKNOWN_MODEL');
    expect(badSteps.body.error.code).toBe('GANFORGE_ERR_VALIDATION');
    expect(await stack.db.prisma.run.count()).toBe(before);
  });
});

function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
