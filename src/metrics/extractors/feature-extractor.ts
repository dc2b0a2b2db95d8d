/**
 * What an evaluation needs from a feature extractor: class probabilities (for the Inception
 * Score) and a feature vector per image (for FID, KID and precision/recall), both as float64
 * rows, plus the facts that make a score's protocol: the extractor's name, its weights' hash and
 * how images are resized before it sees them.
 */
import type * as tf from '@tensorflow/tfjs';
import type { FeatureMatrix } from '../feature-matrix.js';

export interface ExtractedFeatures {
  /** Softmax rows, one per image; null for extractors without a classifier head. */
  probabilities: FeatureMatrix | null;
  /** Penultimate-layer (or pool_3) rows, one per image. */
  features: FeatureMatrix;
}

export interface FeatureExtractor {
  /** Stable name stored with every score, e.g. `classifier-mnist` or `inception-v3-pool3`. */
  readonly name: string;
  /** sha256 of the weights, hex: two scores are comparable only if their hashes match. */
  readonly sha256: string;
  /** How images are brought to the extractor's input, e.g. `none` or `bilinear-299`. */
  readonly resize: string;
  /** Images NHWC with values in [-1, 1]; any batch size. The caller keeps ownership. */
  extract(images: tf.Tensor4D): Promise<ExtractedFeatures>;
  dispose(): void;
}

/** Which extractor an evaluation asks for. */
export interface ExtractorRequest {
  /** `classifier`: ganforge's own per-dataset classifier; `inception`: Inception-v3 pool_3. */
  kind: 'classifier' | 'inception';
  /** The dataset the classifier is trained on (and the real images come from). */
  datasetId: string;
}

/** Where extractors keep what they train or load, and what they cache. */
export interface ExtractorContext {
  /** Directory for trained classifier weights and cached real-data features. */
  cacheDir: string;
  /** Local TensorFlow.js graph-model directory of Inception-v3; never downloaded. */
  inceptionModelDir?: string;
  /** Progress of long work (training a classifier, caching real features); optional. */
  log?: (msg: string, fields?: object) => void;
}
