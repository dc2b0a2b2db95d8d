/**
 * The generated side of an evaluation: images from a restored checkpoint's sampling generator (the
 * moving average when the run keeps one), drawn in chunks from a noise stream fixed by the run
 * seed, so the same checkpoint always yields the same images. Between chunks the event loop runs:
 * the evaluation worker shares it with BullMQ's lock renewals.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../data/mnist.js';
import { deriveSeed, Random } from '../gan/random.js';
import type { GanTrainer } from '../gan/training.js';
import type {
  ExtractedFeatures,
  FeatureExtractor,
} from '../metrics/extractors/feature-extractor.js';
import type { FeatureMatrix } from '../metrics/feature-matrix.js';

/**
 * Images per chunk. It is fixed, not tuned per machine: generators that draw noise inputs
 * (StyleGAN) seed them per chunk, so the chunking is part of what makes a checkpoint's images
 * repeatable. It also bounds the longest synchronous stretch: 16 images through Inception-v3 take
 * seconds on a CPU, far inside the job's lock.
 */
export const evaluationChunkSize = 16;

/**
 * Yields `count` generated images as NHWC tensors of at most evaluationChunkSize images,
 * centre-cropped to `shape` when the run trained on padded data (imageSize 32 for 28x28 MNIST pads
 * centred, see gatherImages). Each tensor belongs to the caller.
 */
export async function* generatedImageChunks(
  trainer: GanTrainer,
  count: number,
  shape: ImageShape,
): AsyncGenerator<tf.Tensor4D> {
  const { seed, latentDim } = trainer.config;
  const noise = new Random(deriveSeed(seed, 'evaluation-noise'));
  for (let start = 0, chunk = 0; start < count; start += evaluationChunkSize, chunk++) {
    const size = Math.min(evaluationChunkSize, count - start);
    const images = tf.tidy(() => {
      const z = tf.tensor2d(noise.normals(size * latentDim), [size, latentDim]);
      const full = trainer.generate(z, deriveSeed(seed, `evaluation-noise-inputs-${chunk}`));
      const top = Math.floor((full.shape[1] - shape.height) / 2);
      const left = Math.floor((full.shape[2] - shape.width) / 2);
      return full.slice([0, top, left, 0], [size, shape.height, shape.width, shape.channels]);
    });
    yield images;
    await yieldToEventLoop();
  }
}

/** Grows a row-major float64 matrix chunk by chunk. */
class MatrixBuilder {
  private data: Float64Array;
  private rows = 0;
  private cols = 0;

  constructor(private readonly capacity: number) {
    this.data = new Float64Array(0);
  }

  append(chunk: FeatureMatrix): void {
    if (this.rows === 0) {
      this.cols = chunk.cols;
      this.data = new Float64Array(this.capacity * chunk.cols);
    }
    this.data.set(chunk.data, this.rows * this.cols);
    this.rows += chunk.rows;
  }

  build(): FeatureMatrix {
    return { rows: this.rows, cols: this.cols, data: this.data.subarray(0, this.rows * this.cols) };
  }
}

/** The extractor's features (and class probabilities, if it has a head) of generated images. */
export async function extractGeneratedFeatures(
  chunks: AsyncIterable<tf.Tensor4D>,
  extractor: FeatureExtractor,
  count: number,
): Promise<ExtractedFeatures> {
  const features = new MatrixBuilder(count);
  let probabilities: MatrixBuilder | null = new MatrixBuilder(count);
  for await (const images of chunks) {
    try {
      const extracted = await extractor.extract(images);
      features.append(extracted.features);
      if (extracted.probabilities && probabilities) probabilities.append(extracted.probabilities);
      else probabilities = null;
    } finally {
      images.dispose();
    }
  }
  return { features: features.build(), probabilities: probabilities?.build() ?? null };
}

/** Generated images as pixel rows in [0, 1], the space the Parzen window estimate works in. */
export async function generatedPixels(
  chunks: AsyncIterable<tf.Tensor4D>,
  count: number,
): Promise<FeatureMatrix> {
  const pixels = new MatrixBuilder(count);
  for await (const images of chunks) {
    const [n, height, width, channels] = images.shape;
    const values = await images.data();
    images.dispose();
    pixels.append(pixelRows(values, n, height * width * channels));
  }
  return pixels.build();
}

/** Rows of images stored in [-1, 1], rescaled to [0, 1]. */
export function pixelRows(values: ArrayLike<number>, rows: number, cols: number): FeatureMatrix {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = (values[i] + 1) / 2;
  return { rows, cols, data };
}
