/** Keeps the Dataset table in step with the built-in dataset registry (src/data/datasets.ts). */
import { datasets } from '../data/datasets.js';
import type { PrismaClient } from './client.js';

export async function syncBuiltInDatasets(prisma: PrismaClient): Promise<void> {
  for (const entry of Object.values(datasets)) {
    const row = {
      description: entry.description,
      width: entry.shape.width,
      height: entry.shape.height,
      channels: entry.shape.channels,
      trainCount: entry.splitSizes.train,
      testCount: entry.splitSizes.test,
    };
    await prisma.dataset.upsert({
      where: { id: entry.name },
      create: { id: entry.name, ...row },
      update: row,
    });
  }
}
