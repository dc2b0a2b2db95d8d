/**
 * The feature extractors the worker process evaluates with: the single place where production
 * chooses them (tests hand startEvaluationWorker their own).
 */
import { loadFeatureExtractor, realFeatures } from '../metrics/extractors/index.js';
import type { EvaluationDependencies } from './evaluation-processor.js';

export const featureExtractors: EvaluationDependencies = {
  loadExtractor: loadFeatureExtractor,
  realFeatures,
};
