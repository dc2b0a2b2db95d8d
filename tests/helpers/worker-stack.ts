/**
 * What a test of the real `ganforge worker` process needs around it: its own Postgres schema,
 * Redis key prefix and artifact directory, the worker started on them, and all of it removed
 * afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from './database.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

export interface WorkerStack {
  db: TestDatabase;
  redis: Redis;
  prefix: string;
  artifactsDir: string;
  /** Starts the worker on this stack (wasm backend); `env` adds or overrides variables. */
  startWorker(env?: Record<string, string>): WorkerProcess;
  /** SIGKILLs the workers started so far (between tests). */
  killWorkers(): Promise<void>;
  close(): Promise<void>;
}

export async function createWorkerStack(name: string): Promise<WorkerStack> {
  const db = await createTestDatabase();
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const prefix = `test-${name}-${process.pid}`;
  const artifactsDir = await mkdtemp(path.join(tmpdir(), `ganforge-${name}-`));
  const workers: WorkerProcess[] = [];
  return {
    db,
    redis,
    prefix,
    artifactsDir,
    startWorker(env = {}) {
      const worker = startWorkerProcess({
        DATABASE_URL: db.url,
        GANFORGE_PREFIX: prefix,
        GANFORGE_ARTIFACTS_DIR: artifactsDir,
        GANFORGE_BACKEND: 'wasm',
        ...env,
      });
      workers.push(worker);
      return worker;
    },
    async killWorkers() {
      await Promise.all(workers.splice(0).map((worker) => worker.kill()));
    },
    async close() {
      await Promise.all(workers.splice(0).map((worker) => worker.kill()));
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await db.drop();
      await rm(artifactsDir, { recursive: true, force: true });
    },
  };
}
