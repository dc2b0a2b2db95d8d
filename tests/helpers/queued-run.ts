/**
 * A run row and its training job, as `POST /v1/runs` makes them, for tests and benches that drive
 * a worker without the API.
 */
import type { Redis } from 'ioredis';
import type { PrismaClient } from '../../src/db/client.js';
import type { TrainingConfig } from '../../src/gan/training-config.js';
import { createTrainingQueue, enqueueTrainingRun } from '../../src/queue/training-queue.js';

/** Stores a queued run of `config` and puts its job on the training queue; returns its id. */
export async function queueTrainingRun(
  prisma: PrismaClient,
  redis: Redis,
  prefix: string,
  config: TrainingConfig,
): Promise<string> {
  const run = await prisma.run.create({
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
  return run.id;
}
