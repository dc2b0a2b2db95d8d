import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

describe('database', () => {
  it('migrates a fresh schema and seeds the built-in datasets', async () => {
    const datasets = await db.prisma.dataset.findMany({ orderBy: { id: 'asc' } });

    expect(datasets.map((d) => d.id)).toEqual(['fashion-mnist', 'mnist']);
    expect(datasets[1]).toMatchObject({ width: 28, height: 28, channels: 1, trainCount: 60000 });
  });

  it('stores a run with its scalars and cascades their deletion', async () => {
    const run = await db.prisma.run.create({
      data: { model: 'dcgan', datasetId: 'mnist', config: { steps: 3 }, seed: 7, totalSteps: 3 },
    });
    await db.prisma.scalar.createMany({
      data: [
        { runId: run.id, step: 1, name: 'loss/d', value: 1.25 },
        { runId: run.id, step: 1, name: 'loss/g', value: 0.75 },
      ],
    });

    expect(run.status).toBe('queued');
    expect(await db.prisma.scalar.count({ where: { runId: run.id } })).toBe(2);

    await db.prisma.run.delete({ where: { id: run.id } });

    expect(await db.prisma.scalar.count({ where: { runId: run.id } })).toBe(0);
  });

  it('rejects a second scalar of the same name at the same step', async () => {
    const run = await db.prisma.run.create({
      data: { model: 'gan', datasetId: 'mnist', config: {}, seed: 1, totalSteps: 1 },
    });
    const scalar = { runId: run.id, step: 5, name: 'loss/d', value: 1 };
    await db.prisma.scalar.create({ data: scalar });

    await expect(db.prisma.scalar.create({ data: scalar })).rejects.toMatchObject({
      code: 'P2002',
    });
  });
});
