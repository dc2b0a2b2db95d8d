/**
 * The one registry of ganforge's error codes. Every error a client can see has a stable code
 * and an HTTP status here; tests assert codes, never message text.
 */
export const errorCodes = {
  GANFORGE_ERR_VALIDATION: { status: 400, description: 'The request does not match its schema.' },
  GANFORGE_ERR_INVALID_CONFIG: {
    status: 400,
    description: 'A run config value is out of range or inconsistent.',
  },
  GANFORGE_ERR_UNKNOWN_DATASET: { status: 400, description: 'The dataset is not built in.' },
  GANFORGE_ERR_UNKNOWN_MODEL: { status: 400, description: 'The model name is not supported.' },
  GANFORGE_ERR_METRIC_INPUT: {
    status: 400,
    description:
      'Metric input is malformed: wrong shape, a non-finite value, an unreadable feature file or an option out of range.',
  },
  GANFORGE_ERR_METRIC_TOO_FEW_SAMPLES: {
    status: 400,
    description: 'A sample set is too small for the metric (for example one row for a covariance).',
  },
  GANFORGE_ERR_METRIC_DIMENSION_MISMATCH: {
    status: 400,
    description: 'Two sample sets have different feature dimensions.',
  },
  GANFORGE_ERR_METRIC_NOT_PROBABILITIES: {
    status: 400,
    description: 'Class-probability rows must lie in [0, 1] and sum to 1 within 1e-6.',
  },
  GANFORGE_ERR_METRIC_UNSUPPORTED: {
    status: 400,
    description:
      'The metric cannot be computed with this feature extractor (the Inception Score needs class probabilities).',
  },
  GANFORGE_ERR_NOT_FOUND: { status: 404, description: 'No such resource.' },
  GANFORGE_ERR_CHECKPOINT_NOT_FOUND: {
    status: 404,
    description: 'The run has no checkpoint at this step (or none yet).',
  },
  GANFORGE_ERR_RUN_NOT_FOUND: { status: 404, description: 'No run has this id.' },
  GANFORGE_ERR_ARTIFACT_NOT_FOUND: { status: 404, description: 'The artifact file is missing.' },
  GANFORGE_ERR_RUN_FINISHED: {
    status: 409,
    description: 'The run has already finished and cannot change state.',
  },
  GANFORGE_ERR_DIVERGED: { status: 500, description: 'Training produced a non-finite loss.' },
  GANFORGE_ERR_DATASET_UNAVAILABLE: {
    status: 500,
    description: 'The dataset files are not installed on the worker.',
  },
  GANFORGE_ERR_DATASET_CORRUPT: {
    status: 500,
    description: 'A dataset file is malformed (wrong magic number, dtype or size).',
  },
  GANFORGE_ERR_EXTRACTOR_UNAVAILABLE: {
    status: 500,
    description:
      'A feature extractor cannot be loaded: the Inception-v3 model directory is not configured, missing or not a graph model of the expected signature, or a stored classifier cannot be read or trained.',
  },
  GANFORGE_ERR_ENGINE_FAULT: {
    status: 500,
    description:
      'The compute engine failed while training (on wasm, most often out of its 4 GB of memory: a smaller imageSize, width or batchSize fits); the training process is replaced.',
  },
  GANFORGE_ERR_BACKEND_UNAVAILABLE: {
    status: 500,
    description: 'The requested compute backend cannot be loaded.',
  },
  GANFORGE_ERR_CHECKPOINT_CORRUPT: {
    status: 500,
    description: 'A checkpoint file does not match its recorded hash or format.',
  },
  GANFORGE_ERR_STALLED: {
    status: 500,
    description: 'The worker running the job died more often than allowed.',
  },
  GANFORGE_ERR_INTERNAL: { status: 500, description: 'Unexpected server error.' },
  GANFORGE_ERR_UNAVAILABLE: {
    status: 503,
    description: 'A dependency (database, Redis) is not reachable.',
  },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class GanforgeError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'GanforgeError';
    this.code = code;
    this.statusCode = errorCodes[code].status;
    this.details = details;
  }
}

export function isGanforgeError(err: unknown): err is GanforgeError {
  return err instanceof GanforgeError;
}
