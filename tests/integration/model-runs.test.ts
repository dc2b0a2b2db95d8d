/**
 * Each of the seven models trains through the API on each built-in dataset: a tiny run submitted
 * over HTTP, trained by the worker on the wasm backend, followed over the WebSocket to
 * `completed`, then read back through the API. The table below states, per model, what its paper
 * and its objective imply and what a run must therefore show: the defaults in the stored config,
 * the scalars it logs, the image side of its grids and checkpoints, its optimizer and the number
 * of critic updates, weight clipping, batch norm in the critic, the generator's noise stream.
 */
import { PNG } from 'pngjs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, type TensorRecord } from '../../src/gan/checkpoint.js';
import { allSettingKeys } from '../../src/gan/objectives.js';
import {
  datasetNames,
  modelNames,
  type DatasetName,
  type ModelName,
} from '../../src/gan/training-config.js';
import type { RunEvent } from '../../src/queue/run-events.js';
import { isTerminal, startApiStack, streamEvents, type ApiStack } from '../helpers/api-stack.js';

type ScalarsEvent = Extract<RunEvent, { kind: 'scalars' }>;

let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack('models');
});

afterAll(async () => {
  await stack?.close();
});

interface ModelFacts {
  /** Extra request keys of this model's run. */
  request?: Record<string, number>;
  /** Values the stored config must hold: each paper's defaults, and the request's own keys. */
  config: Record<string, number>;
  /** Side of the images it trains at on 28x28 data (grids, checkpoint image shape). */
  side: number;
  optimizer: 'adam' | 'rmsprop';
  /** Critic updates per generator update. */
  nCritic: number;
  /** The steps (of 2) that log each model-specific scalar; absent names are logged at none. */
  scalarSteps?: Partial<Record<(typeof modelScalars)[number], number[]>>;
  /** [phase/resolution, phase/alpha] logged at steps 1 and 2 (progan). */
  phases?: [number, number][];
  /** Every trainable critic weight lies in [-clip, clip] (wgan); others have larger weights. */
  clip?: number;
  /** The critic has batch norm, whose moving statistics the checkpoint holds. */
  criticBatchNorm: boolean;
  /** The generator draws its own noise inputs; the checkpoint holds their random stream. */
  noiseInputs: boolean;
}

const modelScalars = ['loss/gp', 'loss/r1', 'phase/resolution', 'phase/alpha'] as const;

/** Goodfellow et al. 2014 with Radford et al. 2015's Adam settings. */
const adamGan = { learningRate: 2e-4, beta1: 0.5, beta2: 0.999, nCritic: 1, emaDecay: 0.999 };
/** Karras et al. 2018, 2019, 2020. */
const adamKarras = { learningRate: 1e-3, beta1: 0, beta2: 0.99, nCritic: 1, emaDecay: 0.999 };
const plain = { optimizer: 'adam', nCritic: 1, noiseInputs: false } as const;

/** Typed by ModelName, so a model added without its facts does not compile. */
const models: Record<ModelName, ModelFacts> = {
  gan: { ...plain, config: adamGan, side: 28, criticBatchNorm: false },
  dcgan: { ...plain, config: adamGan, side: 28, criticBatchNorm: true },
  wgan: {
    config: { learningRate: 5e-5, nCritic: 5, clipValue: 0.01, emaDecay: 0.999 },
    side: 28,
    optimizer: 'rmsprop',
    nCritic: 5,
    clip: 0.01,
    criticBatchNorm: true,
    noiseInputs: false,
  },
  'wgan-gp': {
    request: { imageSize: 32 },
    config: {
      learningRate: 1e-4,
      beta1: 0,
      beta2: 0.9,
      nCritic: 5,
      gradientPenalty: 10,
      emaDecay: 0.999,
      imageSize: 32,
    },
    side: 32,
    optimizer: 'adam',
    nCritic: 5,
    scalarSteps: { 'loss/gp': [1, 2] },
    criticBatchNorm: false,
    noiseInputs: false,
  },
  progan: {
    ...plain,
    // One step at 4x4, then 8x8 fades in over two steps.
    request: { stableSteps: 1, fadeSteps: 2 },
    config: { ...adamKarras, stableSteps: 1, fadeSteps: 2, imageSize: 32 },
    side: 32,
    scalarSteps: { 'phase/resolution': [1, 2], 'phase/alpha': [1, 2] },
    phases: [
      [4, 1],
      [8, 0],
    ],
    criticBatchNorm: false,
  },
  stylegan: {
    ...plain,
    config: { ...adamKarras, r1Gamma: 10, imageSize: 32 },
    side: 32,
    // R1 at every D update.
    scalarSteps: { 'loss/r1': [1, 2] },
    criticBatchNorm: false,
    noiseInputs: true,
  },
  stylegan2: {
    ...plain,
    config: { ...adamKarras, r1Gamma: 10, imageSize: 32 },
    side: 32,
    // Lazy R1: the first of every 16 D updates.
    scalarSteps: { 'loss/r1': [1] },
    criticBatchNorm: false,
    noiseInputs: true,
  },
};

const cases = modelNames.flatMap((model) =>
  datasetNames.map((dataset) => [model, dataset] as const),
);
const steps = 2;
/** sampleCount 4 makes a 2x2 grid; renderImageGrid puts a 2-pixel gutter around every tile. */
const gridSide = (side: number) => 2 * side + 3 * 2;

function stepsLogging(scalars: ScalarsEvent[], name: string): number[] {
  return scalars.flatMap((e) => (name in e.values ? [e.step] : []));
}

/** Batch norm's moving statistics are state, not weights: clipping leaves them alone. */
function largestTrainableWeight(weights: Record<string, TensorRecord>): number {
  const trainable = Object.entries(weights).filter(([name]) => !name.includes('/moving_'));
  return Math.max(...trainable.flatMap(([, record]) => Array.from(record.data, Math.abs)));
}

const api = () => request(stack.app.server);

/** Submits a tiny run and checks the stored config; returns the run id. */
async function submitTinyRun(
  model: ModelName,
  dataset: DatasetName,
  facts: ModelFacts,
): Promise<string> {
  const created = await api()
    .post('/v1/runs')
    .send({
      model,
      dataset,
      seed: 8,
      steps,
      batchSize: 4,
      width: 2,
      logEvery: 1,
      sampleEvery: 1,
      checkpointEvery: steps,
      sampleCount: 4,
      ...facts.request,
    })
    .expect(201);
  const config = created.body.config;
  expect(config).toMatchObject({
    model,
    dataset,
    width: 2,
    imageSize: facts.side,
    // The run states how 28x28 data reaches the side its networks need.
    imageFit: facts.side === 28 ? 'none' : `pad-${facts.side}`,
    ...facts.config,
  });
  const expectedKeys = allSettingKeys.filter((key) => key in facts.config);
  expect(allSettingKeys.filter((key) => key in config)).toEqual(expectedKeys);
  return created.body.id;
}

function expectScalars(events: RunEvent[], facts: ModelFacts): void {
  const scalars = events.filter((e): e is ScalarsEvent => e.kind === 'scalars');
  expect(scalars.map((e) => e.step)).toEqual([1, 2]);
  const losses = scalars.flatMap((e) => [e.values['loss/d'], e.values['loss/g']]);
  expect(losses.filter(Number.isFinite)).toHaveLength(2 * steps);
  for (const name of modelScalars) {
    expect([name, stepsLogging(scalars, name)]).toEqual([name, facts.scalarSteps?.[name] ?? []]);
  }
  if (facts.phases) {
    const phases = scalars.map((e) => [e.values['phase/resolution'], e.values['phase/alpha']]);
    expect(phases).toEqual(facts.phases);
  }
}

async function expectSampleGrids(runId: string, facts: ModelFacts): Promise<void> {
  const samples = await api().get(`/v1/runs/${runId}/samples`).expect(200);
  expect(samples.body.items.map((s: { step: number }) => s.step)).toEqual([1, 2]);
  const png = await api()
    .get(`/v1/runs/${runId}/samples/${steps}.png`)
    .buffer(true)
    .expect(200)
    .expect('content-type', 'image/png');
  const image = PNG.sync.read(png.body as Buffer);
  expect([image.width, image.height]).toEqual([gridSide(facts.side), gridSide(facts.side)]);
  expect(samples.body.items[1]).toMatchObject({ width: image.width, height: image.height });
}

async function expectCheckpoint(
  runId: string,
  model: ModelName,
  dataset: DatasetName,
  facts: ModelFacts,
): Promise<void> {
  const file = await api()
    .get(`/v1/runs/${runId}/checkpoints/${steps}/file`)
    .buffer(true)
    .expect(200);
  const state = decodeCheckpoint(file.body as Buffer);
  expect(state).toMatchObject({
    step: steps,
    seed: 8,
    config: { model, dataset },
    imageShape: { height: facts.side, width: facts.side, channels: 1 },
  });
  const { generator, discriminator } = state.optimizers;
  expect([generator.kind, generator.iterations]).toEqual([facts.optimizer, steps]);
  expect([discriminator.kind, discriminator.iterations]).toEqual([
    facts.optimizer,
    facts.nCritic * steps,
  ]);
  const largest = largestTrainableWeight(state.discriminator);
  if (facts.clip === undefined) expect(largest).toBeGreaterThan(0.01);
  else expect(largest).toBeLessThanOrEqual(facts.clip);
  const movingStats = Object.keys(state.discriminator).some((name) => name.includes('/moving_'));
  expect(movingStats).toBe(facts.criticBatchNorm);
  expect(state.networkRngs?.generator !== undefined).toBe(facts.noiseInputs);
}

describe('every model on every dataset through the API', () => {
  it.each(cases)(
    'trains a tiny %s run on %s and serves its grids and checkpoint',
    async (model, dataset) => {
      const facts = models[model];
      const runId = await submitTinyRun(model, dataset, facts);

      const events = await streamEvents(stack.baseUrl, runId, isTerminal);

      expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'completed', step: steps });
      expectScalars(events, facts);
      await expectSampleGrids(runId, facts);
      await expectCheckpoint(runId, model, dataset, facts);
    },
  );
});
