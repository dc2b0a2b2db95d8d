/**
 * A run whose networks do not fit the wasm engine's 4 GB heap traps the engine. The run fails with
 * GANFORGE_ERR_ENGINE_FAULT, not after retries on a broken heap, and the training process that
 * trapped is replaced: the next run trains in a fresh one and completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { queueTrainingRun } from '../helpers/queued-run.js';
import { waitFor } from '../helpers/wait.js';
import { createWorkerStack, type WorkerStack } from '../helpers/worker-stack.js';

let stack: WorkerStack;
const timeoutMs = 120_000;

beforeAll(async () => {
  stack = await createWorkerStack('engine-fault');
});

afterAll(async () => {
  await stack?.close();
});

function finished(runId: string) {
  return waitFor(
    `run ${runId} to finish`,
    async () => {
      const run = await stack.db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
      return ['completed', 'failed', 'diverged'].includes(run.status) ? run : undefined;
    },
    timeoutMs,
  );
}

describe('a trap in the compute engine', { timeout: 3 * timeoutMs }, () => {
  it('fails its run with a code and leaves the next run a fresh training process', async () => {
    const tiny: TrainingConfig = {
      ...trainingDefaults,
      model: 'gan',
      dataset: 'mnist',
      seed: 3,
      steps: 2,
      batchSize: 8,
      width: 8,
      latentDim: 8,
      sampleCount: 4,
    };
    const worker = stack.startWorker();
    // 1024x1024 images into an MLP 1,024 units wide: a 4 GB first weight matrix.
    const tooLarge = await queueTrainingRun(stack.db.prisma, stack.redis, stack.prefix, {
      ...tiny,
      imageSize: 1024,
      width: 256,
    });
    const failed = await finished(tooLarge);
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'GANFORGE_ERR_ENGINE_FAULT' });
    expect(failed.errorMessage).toMatch(/smaller imageSize, width or batchSize/);

    const next = await queueTrainingRun(stack.db.prisma, stack.redis, stack.prefix, tiny);
    expect((await finished(next)).status).toBe('completed');
    expect(worker.sandboxPids()).toHaveLength(2);
  });
});
