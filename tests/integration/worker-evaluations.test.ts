/**
 * The `ganforge worker` command runs both workers: a run's scheduled evaluations, queued by the
 * training sandbox, are scored by the same process's evaluation worker with the extractors the
 * build wires in. The dataset's classifier is stored beforehand from a short recipe (the worker
 * would otherwise spend a minute or two training the full one); Inception-v3 is not installed
 * here, so an `inception` evaluation must fail with its code.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueuedEvaluation } from '../../src/db/evaluations.js';
import { initEngine } from '../../src/gan/engine.js';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { trainAndStoreClassifier } from '../../src/metrics/extractors/index.js';
import { createEvaluationQueue, enqueueEvaluation } from '../../src/queue/evaluation-queue.js';
import { shortClassifierRecipe } from '../helpers/classifier-recipe.js';
import { queueTrainingRun } from '../helpers/queued-run.js';
import { waitFor } from '../helpers/wait.js';
import { createWorkerStack, type WorkerStack } from '../helpers/worker-stack.js';

let stack: WorkerStack;
let classifierSha256: string;
const timeoutMs = 180_000;

beforeAll(async () => {
  stack = await createWorkerStack('worker-evaluations');
  await initEngine('wasm');
  const stored = await trainAndStoreClassifier(
    'mnist',
    { cacheDir: path.join(stack.artifactsDir, 'extractors') },
    { ...shortClassifierRecipe, seed: 5 },
  );
  classifierSha256 = stored.sha256;
}, timeoutMs);

afterAll(async () => {
  await stack?.close();
});

describe('ganforge worker', { timeout: 2 * timeoutMs }, () => {
  it('scores the evaluations its training sandbox schedules with the wired extractors', async () => {
    const config: TrainingConfig = {
      ...trainingDefaults,
      model: 'gan',
      dataset: 'mnist',
      seed: 4,
      steps: 2,
      batchSize: 8,
      width: 8,
      latentDim: 8,
      checkpointEvery: 2,
      sampleCount: 16,
      evaluation: {
        every: 2,
        metrics: ['parzen', 'fid', 'is'],
        samples: 20,
        extractor: 'classifier',
        realSamples: 20,
        realSplit: 'test',
      },
    };
    const runId = await queueTrainingRun(stack.db.prisma, stack.redis, stack.prefix, config);

    stack.startWorker({
      GANFORGE_INCEPTION_MODEL_DIR: path.join(stack.artifactsDir, 'no-inception-here'),
    });
    const evaluations = await waitFor(
      'the scheduled evaluations to finish',
      async () => {
        const rows = await stack.db.prisma.evaluation.findMany({ where: { runId: runId } });
        const done = rows.filter((row) => ['completed', 'failed'].includes(row.status));
        return done.length === 3 ? new Map(done.map((row) => [row.metric, row])) : undefined;
      },
      timeoutMs,
    );

    const common = { step: 2, status: 'completed', generatedSamples: 20, realSamples: 20 };
    const parzen = evaluations.get('parzen')!;
    expect(parzen).toMatchObject({ ...common, extractorName: 'pixels' });
    // A log-density over 784 pixels in [0, 1]: finite, and negative for a 2-step generator.
    expect(parzen.value).toBeLessThan(0);
    expect(Number.isFinite(parzen.value)).toBe(true);
    expect(evaluations.get('fid')).toMatchObject({
      ...common,
      realSplit: 'test',
      extractorName: 'classifier-mnist',
      extractorSha256: classifierSha256,
    });
    // IS reads no real images, whatever the schedule says for the other metrics.
    expect(evaluations.get('is')).toMatchObject({
      ...common,
      realSamples: 0,
      realSplit: 'none',
      extractorName: 'classifier-mnist',
      extractorSha256: classifierSha256,
    });
    // Noise from a 2-step generator is far from digits, and no better than chance at being one.
    expect(evaluations.get('fid')!.value).toBeGreaterThan(1);
    expect(evaluations.get('is')!.value).toBeGreaterThanOrEqual(1);
    expect(evaluations.get('is')!.value).toBeLessThan(10);

    const checkpoint = await stack.db.prisma.checkpoint.findFirstOrThrow({
      where: { runId: runId, step: 2 },
    });
    const inception = await createQueuedEvaluation(stack.db.prisma, {
      runId: runId,
      checkpoint,
      datasetId: 'mnist',
      metric: 'fid',
      extractor: 'inception',
      generatedSamples: 20,
      realSamples: 20,
      realSplit: 'test',
    });
    const evaluationQueue = createEvaluationQueue(stack.redis, stack.prefix);
    await enqueueEvaluation(evaluationQueue, inception.id);
    await evaluationQueue.close();
    const failed = await waitFor(
      'the inception evaluation to finish',
      async () => {
        const row = await stack.db.prisma.evaluation.findUniqueOrThrow({
          where: { id: inception.id },
        });
        return ['completed', 'failed'].includes(row.status) ? row : undefined;
      },
      timeoutMs,
    );
    expect(failed).toMatchObject({
      status: 'failed',
      errorCode: 'GANFORGE_ERR_EXTRACTOR_UNAVAILABLE',
      value: null,
    });
  });
});
