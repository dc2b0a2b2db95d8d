/**
 * Feature extractors for the metrics: ganforge's own per-dataset classifier and Inception-v3
 * pool_3, with real-data features and FID statistics cached per protocol. They run on the
 * TensorFlow.js engine the process has initialised (initEngine).
 */
import { loadClassifierExtractor } from './classifier-extractor.js';
import type { ExtractorContext, ExtractorRequest, FeatureExtractor } from './feature-extractor.js';
import { loadInceptionExtractor } from './inception.js';

export type {
  ExtractedFeatures,
  ExtractorContext,
  ExtractorRequest,
  FeatureExtractor,
} from './feature-extractor.js';
export {
  classifierDir,
  trainAndStoreClassifier,
  type ClassifierManifest,
} from './classifier-store.js';
export { realFeatures, realStatistics } from './real-features.js';

/**
 * The extractor an evaluation asks for. A classifier not yet stored under context.cacheDir is
 * trained first (a minute or two on a CPU); Inception-v3 is read from context.inceptionModelDir
 * and is GANFORGE_ERR_EXTRACTOR_UNAVAILABLE when that is unset or holds no such model.
 */
export function loadFeatureExtractor(
  request: ExtractorRequest,
  context: ExtractorContext,
): Promise<FeatureExtractor> {
  switch (request.kind) {
    case 'classifier':
      return loadClassifierExtractor(request.datasetId, context);
    case 'inception':
      return loadInceptionExtractor(context.inceptionModelDir);
  }
}
