/**
 * The feature extractors the worker process evaluates with: the single place where production
 * chooses them (tests hand startEvaluationWorker their own).
 */
import { GanforgeError } from '../errors.js';
import type { EvaluationDependencies } from './evaluation-processor.js';

function unavailable(): never {
  throw new GanforgeError(
    'GANFORGE_ERR_EXTRACTOR_UNAVAILABLE',
    'this build of the worker has no feature extractors',
  );
}

// TODO(#5): use loadFeatureExtractor and realFeatures of src/metrics/extractors/index.ts.
export const featureExtractors: EvaluationDependencies = {
  loadExtractor: async () => unavailable(),
  realFeatures: async () => unavailable(),
};
