/**
 * GET /v1/evaluations over stored scores: best first in each protocol's own direction, and never
 * a ranking across protocols (a different extractor hash, sample count, split or dataset).
 */
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let redis: Redis;
let app: FastifyInstance;
const prefix = `test-leaderboard-${process.pid}`;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const config = { ...loadConfig({}), databaseUrl: db.url, prefix, logLevel: 'silent' };
  app = await buildApp({ config, prisma: db.prisma, redis, logger: false });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  redis.disconnect();
  await db?.drop();
});

const protocol = {
  datasetId: 'mnist',
  extractor: 'classifier',
  extractorName: 'classifier-mnist',
  extractorSha256: 'a'.repeat(64),
  resize: 'none',
  generatedSamples: 1000,
  realSamples: 1000,
  realSplit: 'test',
};

interface Score {
  model: string;
  metric: string;
  value: number;
  step?: number;
  status?: 'completed' | 'failed' | 'queued';
  protocol?: Partial<typeof protocol>;
}

/** One run per score, each with a checkpoint, and the score as a stored evaluation. */
async function store(scores: Score[]): Promise<string[]> {
  const ids: string[] = [];
  for (const score of scores) {
    const step = score.step ?? 100;
    const run = await db.prisma.run.create({
      data: {
        model: score.model,
        datasetId: score.protocol?.datasetId ?? 'mnist',
        config: {},
        seed: 1,
        totalSteps: step,
        status: 'completed',
      },
    });
    const checkpoint = await db.prisma.checkpoint.create({
      data: { runId: run.id, step, path: `runs/${run.id}/c`, sha256: 'b'.repeat(64), bytes: 1 },
    });
    const status = score.status ?? 'completed';
    const evaluation = await db.prisma.evaluation.create({
      data: {
        runId: run.id,
        checkpointId: checkpoint.id,
        step,
        metric: score.metric,
        status,
        value: status === 'completed' ? score.value : null,
        ...protocol,
        ...score.protocol,
      },
    });
    ids.push(evaluation.id);
  }
  return ids;
}

interface Group {
  protocol: Record<string, unknown>;
  order: string;
  count: number;
  entries: { rank: number; model: string; evaluation: { id: string; value: number } }[];
}

async function leaderboard(query: Record<string, string | number>): Promise<Group[]> {
  const response = await request(app.server).get('/v1/evaluations').query(query).expect(200);
  return response.body.groups as Group[];
}

describe('the leaderboard', () => {
  it('ranks FID ascending and IS descending, each within one protocol', async () => {
    const fid = await store([
      { model: 'dcgan', metric: 'fid', value: 12.5 },
      { model: 'gan', metric: 'fid', value: 40.25 },
      { model: 'wgan-gp', metric: 'fid', value: 3.75 },
      { model: 'gan', metric: 'fid', value: 1, status: 'failed' },
    ]);
    const is = await store([
      { model: 'dcgan', metric: 'is', value: 8.5 },
      { model: 'gan', metric: 'is', value: 9.25 },
      { model: 'wgan', metric: 'is', value: 2 },
    ]);

    const [fidGroup] = await leaderboard({ dataset: 'mnist', metric: 'fid' });
    const [isGroup] = await leaderboard({ dataset: 'mnist', metric: 'is' });

    expect(fidGroup.order).toBe('ascending');
    expect(fidGroup.entries.map((e) => [e.rank, e.model, e.evaluation.value])).toEqual([
      [1, 'wgan-gp', 3.75],
      [2, 'dcgan', 12.5],
      [3, 'gan', 40.25],
    ]);
    expect(fidGroup.entries.map((e) => e.evaluation.id)).toEqual([fid[2], fid[0], fid[1]]);
    expect(fidGroup.count).toBe(3);
    expect(isGroup.order).toBe('descending');
    expect(isGroup.entries.map((e) => e.evaluation.id)).toEqual([is[1], is[0], is[2]]);
  });

  it('puts scores of a different protocol in groups of their own', async () => {
    await store([
      { model: 'dcgan', metric: 'kid', value: 0.02 },
      { model: 'gan', metric: 'kid', value: 0.05 },
      // Better numbers, but not comparable: another extractor hash, sample count, split.
      { model: 'gan', metric: 'kid', value: 0.001, protocol: { extractorSha256: 'c'.repeat(64) } },
      { model: 'gan', metric: 'kid', value: 0.002, protocol: { generatedSamples: 50 } },
      { model: 'gan', metric: 'kid', value: 0.003, protocol: { realSplit: 'train' } },
      { model: 'gan', metric: 'kid', value: 0.004, protocol: { datasetId: 'fashion-mnist' } },
    ]);

    const groups = await leaderboard({ metric: 'kid' });

    expect(groups.map((g) => g.count)).toEqual([2, 1, 1, 1, 1]);
    expect(groups[0].entries.map((e) => e.evaluation.value)).toEqual([0.02, 0.05]);
    expect(groups[0].protocol).toEqual({
      metric: 'kid',
      dataset: 'mnist',
      extractor: 'classifier',
      extractorName: 'classifier-mnist',
      extractorSha256: 'a'.repeat(64),
      resize: 'none',
      generatedSamples: 1000,
      realSamples: 1000,
      realSplit: 'test',
    });
    for (const group of groups) {
      for (const { evaluation } of group.entries) {
        expect(evaluation).toMatchObject({
          metric: 'kid',
          dataset: group.protocol.dataset,
          extractorSha256: group.protocol.extractorSha256,
          generatedSamples: group.protocol.generatedSamples,
          realSplit: group.protocol.realSplit,
        });
      }
    }

    const pinned = await leaderboard({
      metric: 'kid',
      dataset: 'mnist',
      extractorSha256: 'a'.repeat(64),
      generatedSamples: 1000,
      realSplit: 'test',
    });
    expect(pinned).toHaveLength(1);
    expect(pinned[0].entries.map((e) => e.rank)).toEqual([1, 2]);
  });

  it('filters by model and limits the entries of each group', async () => {
    await store([
      { model: 'stylegan2', metric: 'precision-recall', value: 0.7 },
      { model: 'stylegan2', metric: 'precision-recall', value: 0.9 },
      { model: 'progan', metric: 'precision-recall', value: 0.95 },
    ]);

    const [group] = await leaderboard({ metric: 'precision-recall', model: 'stylegan2', limit: 1 });

    expect(group.count).toBe(2);
    expect(group.entries.map((e) => [e.model, e.evaluation.value])).toEqual([['stylegan2', 0.9]]);
  });

  it('refuses an unknown metric with a coded error', async () => {
    const response = await request(app.server).get('/v1/evaluations?metric=bleu').expect(400);
    expect(response.body.error.code).toBe('GANFORGE_ERR_VALIDATION');
  });
});
