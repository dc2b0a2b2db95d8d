/**
 * Any stored checkpoint can be sampled again: GET /v1/runs/:id/checkpoints/:step/samples.png
 * draws a new grid from the checkpoint's generator (its moving average or the trained one), with
 * truncation for the style-based models, the same picture for the same query.
 */
import { PNG } from 'pngjs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminal, startApiStack, streamEvents, type ApiStack } from '../helpers/api-stack.js';

let stack: ApiStack;
let styleRun: string;
let ganRun: string;

const api = () => request(stack.app.server);

async function trainedRun(body: Record<string, unknown>): Promise<string> {
  const created = await api()
    .post('/v1/runs')
    .send({ dataset: 'mnist', seed: 5, steps: 2, batchSize: 4, checkpointEvery: 2, ...body })
    .expect(201);
  const events = await streamEvents(stack.baseUrl, created.body.id, isTerminal);
  expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'completed' });
  return created.body.id as string;
}

async function grid(runId: string, query: string): Promise<Buffer> {
  const response = await api()
    .get(`/v1/runs/${runId}/checkpoints/2/samples.png?${query}`)
    .buffer(true)
    .expect(200)
    .expect('content-type', 'image/png');
  return response.body as Buffer;
}

beforeAll(async () => {
  stack = await startApiStack('checkpoint-samples');
  styleRun = await trainedRun({ model: 'stylegan', width: 2 });
  ganRun = await trainedRun({ model: 'gan', width: 8, latentDim: 8 });
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

describe('sampling a checkpoint again', () => {
  it('draws count images, the same for the same query and new ones for another seed', async () => {
    const first = await grid(styleRun, 'count=16&seed=3');
    const again = await grid(styleRun, 'count=16&seed=3');
    const otherSeed = await grid(styleRun, 'count=16&seed=4');

    const image = PNG.sync.read(first);
    // Four 32x32 images a row, with the grid's borders.
    expect(image.width).toBeGreaterThanOrEqual(4 * 32);
    expect(image.width).toBeLessThan(4 * 32 + 16);
    expect(again.equals(first)).toBe(true);
    expect(otherSeed.equals(first)).toBe(false);
  });

  it('truncates the style-based generator with psi and can use the trained generator', async () => {
    const plain = await grid(styleRun, 'count=4&seed=3');
    expect((await grid(styleRun, 'count=4&seed=3&psi=1&generator=ema')).equals(plain)).toBe(true);
    expect((await grid(styleRun, 'count=4&seed=3&psi=0.5')).equals(plain)).toBe(false);
    expect((await grid(styleRun, 'count=4&seed=3&generator=raw')).equals(plain)).toBe(false);
  });

  it('refuses what does not apply, with coded errors naming the field', async () => {
    const cases: [string, string, number, string, string?][] = [
      [ganRun, '2/samples.png?psi=0.5', 400, 'GANFORGE_ERR_VALIDATION', 'psi'],
      [styleRun, '2/samples.png?count=15', 400, 'GANFORGE_ERR_VALIDATION', 'count'],
      [styleRun, '2/samples.png?psi=3', 400, 'GANFORGE_ERR_VALIDATION'],
      [styleRun, '2/samples.png?truncation=0.5', 400, 'GANFORGE_ERR_VALIDATION'],
      [styleRun, '1/samples.png', 404, 'GANFORGE_ERR_CHECKPOINT_NOT_FOUND'],
    ];
    for (const [runId, path, status, code, field] of cases) {
      const response = await api().get(`/v1/runs/${runId}/checkpoints/${path}`).expect(status);
      expect(response.body.error.code, path).toBe(code);
      if (field) expect(response.body.error.details.field, path).toBe(field);
    }
  });
});
