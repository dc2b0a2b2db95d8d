import path from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

/**
 * ganforge's process configuration, read once from the environment. Every option has a default
 * that works on a developer machine with Postgres and Redis on 127.0.0.1.
 */
const ConfigSchema = Type.Object({
  /** PostgreSQL connection string (DATABASE_URL). */
  databaseUrl: Type.String({ minLength: 1 }),
  /** Redis connection string (REDIS_URL). */
  redisUrl: Type.String({ minLength: 1 }),
  /** Address the API listens on (HOST, default 127.0.0.1). */
  host: Type.String(),
  /** Port the API listens on (PORT, default 8080). */
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  /** Directory of the filesystem artifact store (GANFORGE_ARTIFACTS_DIR, default ./var/artifacts). */
  artifactsDir: Type.String({ minLength: 1 }),
  /**
   * Trained classifiers and cached real-data features of the metrics' extractors
   * (GANFORGE_EXTRACTOR_CACHE_DIR, default <artifacts dir>/extractors).
   */
  extractorCacheDir: Type.String({ minLength: 1 }),
  /**
   * TensorFlow.js graph-model directory of Inception-v3 pool_3 for standard FID
   * (GANFORGE_INCEPTION_MODEL_DIR, default ./var/models/inception-v3); never downloaded.
   */
  inceptionModelDir: Type.String({ minLength: 1 }),
  /** Prefix of BullMQ queues and Redis keys (GANFORGE_PREFIX, default ganforge). */
  prefix: Type.String({ minLength: 1 }),
  /** Compute backend: auto, tensorflow-gpu, tensorflow, wasm or cpu (GANFORGE_BACKEND, default auto). */
  backend: Type.Union([
    Type.Literal('auto'),
    Type.Literal('tensorflow-gpu'),
    Type.Literal('tensorflow'),
    Type.Literal('wasm'),
    Type.Literal('cpu'),
  ]),
  /** Training jobs one worker runs at once (GANFORGE_WORKER_CONCURRENCY, default 1). */
  workerConcurrency: Type.Integer({ minimum: 1, maximum: 64 }),
  /**
   * How long a training job's lock lives without renewal (GANFORGE_JOB_LOCK_MS, default 30000).
   * A worker that dies holds its job this long before another worker may resume it.
   */
  jobLockMs: Type.Integer({ minimum: 1000 }),
  /** How often a worker looks for jobs whose worker died (GANFORGE_STALLED_INTERVAL_MS, 30000). */
  stalledIntervalMs: Type.Integer({ minimum: 500 }),
  /** Worker deaths a run survives before it fails (GANFORGE_MAX_STALLED, default 1). */
  maxStalledCount: Type.Integer({ minimum: 0, maximum: 100 }),
  /** Events kept per run in its Redis stream (GANFORGE_EVENTS_MAXLEN, default 10000). */
  eventsMaxLen: Type.Integer({ minimum: 100 }),
  /** pino log level (LOG_LEVEL, default info). */
  logLevel: Type.String(),
});

export type Config = Static<typeof ConfigSchema>;
export type BackendChoice = Config['backend'];

/** The environment variable behind every option; the inverse of this table is configEnv. */
const envNames = {
  databaseUrl: 'DATABASE_URL',
  redisUrl: 'REDIS_URL',
  host: 'HOST',
  port: 'PORT',
  artifactsDir: 'GANFORGE_ARTIFACTS_DIR',
  extractorCacheDir: 'GANFORGE_EXTRACTOR_CACHE_DIR',
  inceptionModelDir: 'GANFORGE_INCEPTION_MODEL_DIR',
  prefix: 'GANFORGE_PREFIX',
  backend: 'GANFORGE_BACKEND',
  workerConcurrency: 'GANFORGE_WORKER_CONCURRENCY',
  jobLockMs: 'GANFORGE_JOB_LOCK_MS',
  stalledIntervalMs: 'GANFORGE_STALLED_INTERVAL_MS',
  maxStalledCount: 'GANFORGE_MAX_STALLED',
  eventsMaxLen: 'GANFORGE_EVENTS_MAXLEN',
  logLevel: 'LOG_LEVEL',
} as const satisfies Record<keyof Config, string>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const read = (key: keyof Config) => env[envNames[key]];
  const artifactsDir = path.resolve(read('artifactsDir') ?? 'var/artifacts');
  const config = {
    databaseUrl: read('databaseUrl') ?? 'postgresql://postgres@127.0.0.1:5432/ganforge',
    redisUrl: read('redisUrl') ?? 'redis://127.0.0.1:6379',
    host: read('host') ?? '127.0.0.1',
    port: Number(read('port') ?? 8080),
    artifactsDir,
    extractorCacheDir: path.resolve(
      read('extractorCacheDir') ?? path.join(artifactsDir, 'extractors'),
    ),
    inceptionModelDir: path.resolve(read('inceptionModelDir') ?? 'var/models/inception-v3'),
    prefix: read('prefix') ?? 'ganforge',
    backend: read('backend') ?? 'auto',
    workerConcurrency: Number(read('workerConcurrency') ?? 1),
    jobLockMs: Number(read('jobLockMs') ?? 30000),
    stalledIntervalMs: Number(read('stalledIntervalMs') ?? 30000),
    maxStalledCount: Number(read('maxStalledCount') ?? 1),
    eventsMaxLen: Number(read('eventsMaxLen') ?? 10000),
    logLevel: read('logLevel') ?? 'info',
  };
  if (!Value.Check(ConfigSchema, config)) {
    const problems = [...Value.Errors(ConfigSchema, config)]
      .map((e) => `${e.instancePath || '/'} ${e.message}`)
      .join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return config;
}

/**
 * The environment that makes loadConfig return `config` again: how a process hands its exact
 * configuration to a child it starts (the training sandbox).
 */
export function configEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of Object.keys(envNames) as (keyof Config)[]) {
    env[envNames[key]] = String(config[key]);
  }
  return env;
}
