import { randomInt } from 'node:crypto';
import type { Dataset } from '../db/generated/client.js';
import { GanforgeError } from '../errors.js';
import {
  modelNames,
  trainingDefaults,
  type DatasetName,
  type ModelName,
  type TrainingConfig,
} from '../gan/training-config.js';
import { resolveModelWidth } from '../gan/models/index.js';
import type { CreateRunRequest } from './schemas/runs.js';

/**
 * Turns a create-run request into the full TrainingConfig the worker will train with. The schema
 * has already checked each field's range; this checks names and the rules between fields, so a
 * run that would fail at its first step is refused before it is queued.
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
  if (!dataset) {
    throw new GanforgeError('GANFORGE_ERR_UNKNOWN_DATASET', `no dataset named ${request.dataset}`, {
      dataset: request.dataset,
    });
  }

  const config: TrainingConfig = {
    ...trainingDefaults,
    ...request,
    model: request.model as ModelName,
    // The Dataset table lists the built-in datasets the worker can load.
    dataset: dataset.id as DatasetName,
    seed: request.seed ?? randomInt(0, 2 ** 31 - 1),
    width: resolveModelWidth(request.model, { width: request.width }),
  };

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
  return config;
}

function invalid(message: string, field: string): GanforgeError {
  return new GanforgeError('GANFORGE_ERR_INVALID_CONFIG', message, { field });
}
