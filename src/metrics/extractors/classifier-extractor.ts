/**
 * The stored per-dataset classifier as a FeatureExtractor: softmax rows for IS, the 128-d hidden
 * layer for FID, KID and precision/recall.
 *
 * Resize `center-crop-28`: images larger than 28x28 are cut to their central 28x28. Runs with
 * imageSize 32 pad the 28x28 data with 2 pixels of background on each side (gatherImages), so the
 * crop gives the classifier exactly the frame it was trained on, and 28x28 images pass unchanged;
 * scores of 28 and 32 runs are therefore comparable. Whatever a generator draws in the border is
 * not seen.
 */
import * as tf from '@tensorflow/tfjs';
import { GanforgeError } from '../../errors.js';
import {
  classifierFeatureDims,
  classifierForward,
  classifierSide,
  type ClassifierParameters,
} from './classifier-network.js';
import { loadClassifier, type ClassifierManifest } from './classifier-store.js';
import type { ExtractedFeatures, ExtractorContext, FeatureExtractor } from './feature-extractor.js';
import { tensorRows } from './tensor-rows.js';

/** Images per forward pass; bounds the memory of a large extract() call. */
const chunkSize = 500;

export async function loadClassifierExtractor(
  datasetId: string,
  context: ExtractorContext,
): Promise<ClassifierExtractor> {
  const { manifest, params } = await loadClassifier(datasetId, context);
  return new ClassifierExtractor(manifest, params);
}

export class ClassifierExtractor implements FeatureExtractor {
  readonly name: string;
  readonly sha256: string;
  readonly resize = 'center-crop-28';

  constructor(
    readonly manifest: ClassifierManifest,
    private readonly params: ClassifierParameters,
  ) {
    this.name = manifest.name;
    this.sha256 = manifest.sha256;
  }

  async extract(images: tf.Tensor4D): Promise<ExtractedFeatures> {
    const [count, height, width, channels] = images.shape;
    if (channels !== 1 || height < classifierSide || width < classifierSide) {
      throw new GanforgeError(
        'GANFORGE_ERR_METRIC_INPUT',
        `${this.name} takes grayscale images of at least 28x28, not ${height}x${width}x${channels}`,
        { extractor: this.name, shape: images.shape },
      );
    }
    const top = Math.floor((height - classifierSide) / 2);
    const left = Math.floor((width - classifierSide) / 2);
    const features: tf.Tensor2D[] = [];
    const probabilities: tf.Tensor2D[] = [];
    try {
      for (let start = 0; start < count; start += chunkSize) {
        const size = Math.min(chunkSize, count - start);
        const outputs = tf.tidy(() => {
          const crop = images.slice(
            [start, top, left, 0],
            [size, classifierSide, classifierSide, 1],
          );
          const { features, logits } = classifierForward(this.params, crop);
          return { features, probabilities: tf.softmax(logits) };
        });
        features.push(outputs.features);
        probabilities.push(outputs.probabilities);
        await new Promise((resolve) => setImmediate(resolve));
      }
      return {
        probabilities: normalizeRows(await tensorRows(probabilities, this.manifest.classes)),
        features: await tensorRows(features, classifierFeatureDims),
      };
    } finally {
      tf.dispose([...features, ...probabilities]);
    }
  }

  dispose(): void {
    tf.dispose(this.params.variables);
  }
}

/**
 * Rescales each softmax row to sum to 1 in float64: float32 rounding leaves sums a few ulps off,
 * and the Inception Score checks its rows at 1e-6.
 */
function normalizeRows<T extends { rows: number; cols: number; data: Float64Array }>(m: T): T {
  for (let i = 0; i < m.rows; i++) {
    const row = m.data.subarray(i * m.cols, (i + 1) * m.cols);
    const sum = row.reduce((s, x) => s + x, 0);
    for (let j = 0; j < m.cols; j++) row[j] /= sum;
  }
  return m;
}
