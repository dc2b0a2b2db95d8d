/**
 * A small deterministic feature extractor for tests of the evaluation plumbing: features are a
 * fixed seeded random projection of the pixels through tanh, probabilities a softmax of a fixed
 * seeded linear head on those features. Its hash is that of its weights, like a real extractor's.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { getDataset } from '../../src/data/datasets.js';
import type { DatasetSplit } from '../../src/data/mnist.js';
import { Random } from '../../src/gan/random.js';
import type {
  ExtractedFeatures,
  FeatureExtractor,
} from '../../src/metrics/extractors/feature-extractor.js';
import type { FeatureMatrix } from '../../src/metrics/feature-matrix.js';
import type { EvaluationDependencies } from '../../src/worker/evaluation-processor.js';

export interface ProjectionOptions {
  seed: number;
  pixels: number;
  dims: number;
  /** Classes of the softmax head; 0 for an extractor without one (like Inception pool_3). */
  classes: number;
  name: string;
}

function toMatrix(values: Float32Array, rows: number, cols: number): FeatureMatrix {
  return { rows, cols, data: Float64Array.from(values) };
}

/** Softmax in float64, so each row sums to 1 far within the Inception Score's 1e-6. */
function softmaxRows(logits: Float32Array, rows: number, cols: number): FeatureMatrix {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const row = logits.subarray(i * cols, (i + 1) * cols);
    const largest = Math.max(...row);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += data[i * cols + j] = Math.exp(row[j] - largest);
    for (let j = 0; j < cols; j++) data[i * cols + j] /= sum;
  }
  return { rows, cols, data };
}

export function createProjectionExtractor(options: ProjectionOptions): FeatureExtractor {
  const random = new Random(options.seed);
  const projection = Float32Array.from(random.normals(options.pixels * options.dims));
  const head = Float32Array.from(random.normals(options.dims * options.classes));
  const weights = tf.tensor2d(projection, [options.pixels, options.dims]);
  const logits = options.classes > 0 ? tf.tensor2d(head, [options.dims, options.classes]) : null;
  const sha256 = createHash('sha256')
    .update(Buffer.from(projection.buffer))
    .update(Buffer.from(head.buffer))
    .digest('hex');

  return {
    name: options.name,
    sha256,
    resize: 'none',
    async extract(images) {
      const n = images.shape[0];
      const [features, scores] = tf.tidy(() => {
        const x = images.reshape([n, options.pixels]);
        const f = tf.tanh(tf.matMul(x, weights).div(Math.sqrt(options.pixels))) as tf.Tensor2D;
        return [f, logits ? tf.matMul(f, logits) : null];
      });
      const result: ExtractedFeatures = {
        features: toMatrix((await features.data()) as Float32Array, n, options.dims),
        probabilities: scores
          ? softmaxRows((await scores.data()) as Float32Array, n, options.classes)
          : null,
      };
      tf.dispose([features, scores ?? features]);
      return result;
    },
    dispose() {
      weights.dispose();
      logits?.dispose();
    },
  };
}

/** Features of the first `count` images of a split, computed with `extractor`. */
export async function projectRealImages(
  extractor: FeatureExtractor,
  datasetId: string,
  split: DatasetSplit,
  count: number,
): Promise<ExtractedFeatures> {
  const dataset = await getDataset(datasetId).load(split);
  const { height, width, channels } = dataset;
  const size = height * width * channels;
  const images = tf.tensor4d(dataset.images.subarray(0, count * size), [
    count,
    height,
    width,
    channels,
  ]);
  try {
    return await extractor.extract(images);
  } finally {
    images.dispose();
  }
}

/**
 * Evaluation dependencies built on projection extractors: `classifier` has a 10-class head,
 * `inception` has none (so the Inception Score must fail with a coded error).
 */
export function projectionDependencies(): EvaluationDependencies {
  return {
    async loadExtractor(request) {
      const { height, width, channels } = getDataset(request.datasetId).shape;
      return createProjectionExtractor({
        seed: 7,
        pixels: height * width * channels,
        dims: 16,
        classes: request.kind === 'classifier' ? 10 : 0,
        name: `projection-${request.kind}`,
      });
    },
    realFeatures: (extractor, datasetId, split, count) =>
      projectRealImages(extractor, datasetId, split, count),
  };
}
