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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const config = {
    databaseUrl: env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ganforge',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    host: env.HOST ?? '127.0.0.1',
    port: Number(env.PORT ?? 8080),
    artifactsDir: path.resolve(env.GANFORGE_ARTIFACTS_DIR ?? 'var/artifacts'),
    prefix: env.GANFORGE_PREFIX ?? 'ganforge',
    backend: env.GANFORGE_BACKEND ?? 'auto',
    workerConcurrency: Number(env.GANFORGE_WORKER_CONCURRENCY ?? 1),
    jobLockMs: Number(env.GANFORGE_JOB_LOCK_MS ?? 30000),
    stalledIntervalMs: Number(env.GANFORGE_STALLED_INTERVAL_MS ?? 30000),
    maxStalledCount: Number(env.GANFORGE_MAX_STALLED ?? 1),
    eventsMaxLen: Number(env.GANFORGE_EVENTS_MAXLEN ?? 10000),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
  if (!Value.Check(ConfigSchema, config)) {
    const problems = [...Value.Errors(ConfigSchema, config)]
      .map((e) => `${e.instancePath || '/'} ${e.message}`)
      .join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return config;
}
