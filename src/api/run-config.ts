import { randomInt } from 'node:crypto';
import type { Dataset } from '../db/generated/client.js';
import { GanforgeError } from '../errors.js';
import { foreignSettingKeys, withModelDefaults } from '../gan/objectives.js';
import {
  modelNames,
  trainingDefaults,
  type DatasetName,
  type EvaluationSchedule,
  type ModelName,
  type TrainingConfig,
} from '../gan/training-config.js';
import { defaultImageSide, growsFromFourByFour, resolveModelWidth } from '../gan/models/index.js';
import {
  availableRealImages,
  defaultEvaluationSamples,
  defaultRealSamples,
  extractorServes,
} from './evaluation-request.js';
import type { EvaluationScheduleRequest } from './schemas/evaluations.js';
import type { CreateRunRequest } from './schemas/runs.js';

/**
 * Turns a create-run request into the full TrainingConfig the worker will train with, every
 * default of its model filled in, so the stored run states exactly what it trains with. The schema
 * has already checked each field's range; this checks names, the keys that belong to other models
 * and the rules between fields, so a run that would fail at its first step is refused before it is
 * queued.
 */
export function resolveTrainingConfig(
  request: CreateRunRequest,
  dataset: Dataset | null,
): TrainingConfig {
  if (!(modelNames as readonly string[]).includes(request.model)) {
    throw new GanforgeError('GANFORGE_ERR_UNKNOWN_MODEL', `no model named ${request.model}`, {
      model: request.model,
      known: [...modelNames],
    });
  }
  const model = request.model as ModelName;
  for (const key of foreignSettingKeys(model)) {
    if (request[key] !== undefined) {
      throw new GanforgeError(
        'GANFORGE_ERR_INVALID_CONFIG',
        `${key} does not apply to model ${model}`,
        { field: key, model },
      );
    }
  }
  if (!dataset) {
    throw new GanforgeError('GANFORGE_ERR_UNKNOWN_DATASET', `no dataset named ${request.dataset}`, {
      dataset: request.dataset,
    });
  }

  const { evaluation, ...settings } = request;
  const config: TrainingConfig = withModelDefaults({
    ...trainingDefaults,
    ...settings,
    model,
    // The Dataset table lists the built-in datasets the worker can load.
    dataset: dataset.id as DatasetName,
    seed: request.seed ?? randomInt(0, 2 ** 31 - 1),
    width: resolveModelWidth(model, { width: request.width }),
    imageSize: request.imageSize ?? defaultImageSide(model, dataset.height, dataset.width),
  });
  const native = Math.max(dataset.height, dataset.width);
  config.imageFit = config.imageSize === native ? 'none' : `pad-${config.imageSize}`;
  if (evaluation) config.evaluation = resolveSchedule(evaluation, config, dataset);

  const side = Math.round(Math.sqrt(config.sampleCount));
  if (side * side !== config.sampleCount) {
    throw invalid('sampleCount must be a square number (16, 36, 64 ...)', 'sampleCount');
  }
  if (config.batchSize > dataset.trainCount) {
    throw invalid(
      `batchSize ${config.batchSize} exceeds the ${dataset.trainCount} training images`,
      'batchSize',
    );
  }
  const imageSize = config.imageSize as number;
  if (imageSize < Math.max(dataset.height, dataset.width)) {
    throw invalid(
      `imageSize ${imageSize} is smaller than the ${dataset.height}x${dataset.width} images`,
      'imageSize',
    );
  }
  if (growsFromFourByFour(model) && (imageSize < 8 || !isPowerOfTwo(imageSize))) {
    throw invalid(
      `model ${model} needs an imageSize that is a power of two, 8 or more`,
      'imageSize',
    );
  }
  // The generators of dcgan and the Wasserstein models double a (side/4)-sided map twice.
  if (model !== 'gan' && imageSize % 4 !== 0) {
    throw invalid(`model ${model} needs an imageSize divisible by 4`, 'imageSize');
  }
  return config;
}

/**
 * The schedule with its defaults. Evaluations score checkpoints, so `every` must be a multiple of
 * checkpointEvery: each scheduled step then has a checkpoint, and no evaluation is silently moved.
 */
function resolveSchedule(
  request: EvaluationScheduleRequest,
  config: TrainingConfig,
  dataset: Dataset,
): EvaluationSchedule {
  if (request.every % config.checkpointEvery !== 0) {
    throw invalid(
      `evaluation.every (${request.every}) must be a multiple of checkpointEvery ` +
        `(${config.checkpointEvery})`,
      'evaluation.every',
    );
  }
  const extractor = request.extractor ?? 'classifier';
  const unserved = request.metrics.find((metric) => !extractorServes(metric, extractor));
  if (unserved) {
    throw invalid(
      `evaluation.extractor ${extractor} cannot serve ${unserved}: the Inception Score needs ` +
        'the classifier',
      'evaluation.extractor',
    );
  }
  const samples = request.samples ?? defaultEvaluationSamples;
  const realSplit = request.realSplit ?? 'test';
  const available = availableRealImages(request.metrics, realSplit, dataset);
  const realSamples = request.realSamples ?? defaultRealSamples(samples, available);
  if (realSamples > available) {
    throw invalid(
      `evaluation.realSamples (${realSamples}) exceeds the ${available} real images available`,
      'evaluation.realSamples',
    );
  }
  return {
    every: request.every,
    metrics: [...request.metrics],
    samples,
    extractor,
    realSamples,
    realSplit,
  };
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(Math.log2(n));
}

function invalid(message: string, field: string): GanforgeError {
  return new GanforgeError('GANFORGE_ERR_INVALID_CONFIG', message, { field });
}
