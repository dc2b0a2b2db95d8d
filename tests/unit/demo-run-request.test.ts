/**
 * The demo's run request must pass the API's rules, and with --evaluate-every schedule FID and IS
 * at every multiple of it and at the last step.
 */
import { describe, expect, it } from 'vitest';
import { resolveTrainingConfig } from '../../src/api/run-config.js';
import { demoRunRequest, type DemoOptions } from '../../src/cli/demo.js';
import { datasets } from '../../src/data/datasets.js';
import type { Dataset } from '../../src/db/generated/client.js';
import { isScheduledEvaluationStep } from '../../src/worker/scheduled-evaluations.js';

const mnist: Dataset = {
  id: datasets.mnist.name,
  description: datasets.mnist.description,
  width: datasets.mnist.shape.width,
  height: datasets.mnist.shape.height,
  channels: datasets.mnist.shape.channels,
  trainCount: datasets.mnist.splitSizes.train,
  testCount: datasets.mnist.splitSizes.test,
  createdAt: new Date(0),
};

const demo: DemoOptions = {
  model: 'dcgan',
  steps: 1500,
  batchSize: 64,
  width: 32,
  seed: 1,
  keepRunning: false,
};

function scheduledSteps(options: DemoOptions): number[] {
  const config = resolveTrainingConfig(demoRunRequest(options), mnist);
  return Array.from({ length: config.steps }, (_, i) => i + 1).filter((step) =>
    isScheduledEvaluationStep(config, step),
  );
}

describe('demoRunRequest', () => {
  it('checkpoints four times and schedules no evaluation by default', () => {
    const config = resolveTrainingConfig(demoRunRequest(demo), mnist);

    expect(config).toMatchObject({ model: 'dcgan', width: 32, checkpointEvery: 375 });
    expect(config.evaluation).toBeUndefined();
  });

  it('schedules FID and IS of 1,000 images every N steps, checkpointing at the same steps', () => {
    const config = resolveTrainingConfig(demoRunRequest({ ...demo, evaluateEvery: 250 }), mnist);

    expect(config.checkpointEvery).toBe(250);
    expect(config.evaluation).toEqual({
      every: 250,
      metrics: ['fid', 'is'],
      samples: 1000,
      extractor: 'classifier',
      realSamples: 1000,
      realSplit: 'test',
    });
    expect(scheduledSteps({ ...demo, evaluateEvery: 250 })).toEqual([
      250, 500, 750, 1000, 1250, 1500,
    ]);
  });

  it('also evaluates the last step when N does not divide the run', () => {
    expect(scheduledSteps({ ...demo, steps: 1000, evaluateEvery: 400 })).toEqual([400, 800, 1000]);
  });
});
