import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/gan/engine.js';
import { deriveSeed, Random } from '../../src/gan/random.js';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { GanTrainer } from '../../src/gan/training.js';
import {
  evaluationChunkSize,
  generatedImageChunks,
  generatedPixels,
  pixelRows,
} from '../../src/worker/evaluation-samples.js';

const config: TrainingConfig = {
  ...trainingDefaults,
  model: 'gan',
  dataset: 'mnist',
  seed: 9,
  width: 8,
  latentDim: 6,
  imageSize: 32,
  sampleCount: 4,
};
const mnist = { height: 28, width: 28, channels: 1 };

beforeAll(async () => {
  await initEngine('wasm');
});

describe('generatedImageChunks', () => {
  it('draws the run-seeded noise in fixed chunks and crops padded images to the data', async () => {
    const trainer = GanTrainer.create(config, { height: 32, width: 32, channels: 1 });
    const count = 2 * evaluationChunkSize + 3;
    const before = tf.memory().numTensors;

    const chunks: tf.Tensor4D[] = [];
    for await (const chunk of generatedImageChunks(trainer, count, mnist)) chunks.push(chunk);

    expect(chunks.map((c) => c.shape)).toEqual([
      [evaluationChunkSize, 28, 28, 1],
      [evaluationChunkSize, 28, 28, 1],
      [3, 28, 28, 1],
    ]);
    // The same images as one batch from the same noise, cropped at the centre (rows 2 to 29).
    const z = new Random(deriveSeed(config.seed, 'evaluation-noise')).normals(count * 6);
    const difference = tf.tidy(() => {
      const whole = trainer.generate(tf.tensor2d(z, [count, 6]), 0);
      const expected = whole.slice([0, 2, 2, 0], [count, 28, 28, 1]);
      return tf.max(tf.abs(tf.concat(chunks).sub(expected))).dataSync()[0];
    });
    expect(difference).toBeLessThan(1e-5);
    tf.dispose(chunks);
    expect(tf.memory().numTensors).toBe(before);

    const first = await generatedPixels(generatedImageChunks(trainer, count, mnist), count);
    const again = await generatedPixels(generatedImageChunks(trainer, count, mnist), count);
    expect(first.rows).toBe(count);
    expect(first.cols).toBe(784);
    expect(again.data).toEqual(first.data);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
  });

  it('maps pixel values from [-1, 1] to [0, 1] in float64', () => {
    const rows = pixelRows([-1, 0, 1, 0.5], 2, 2);
    expect(rows).toEqual({ rows: 2, cols: 2, data: Float64Array.from([0, 0.5, 1, 0.75]) });
  });
});
