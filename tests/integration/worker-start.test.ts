/**
 * A worker told to use a compute backend that does not load refuses to start: it takes no job,
 * exits non-zero and says which backend and why, instead of failing every run it would take.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startWorkerProcess } from '../helpers/worker-process.js';

let db: TestDatabase;

function isInstalled(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}
const gpuPackageInstalled = isInstalled('@tensorflow/tfjs-node-gpu');

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db.drop();
});

describe('ganforge worker start', () => {
  it.skipIf(gpuPackageInstalled)(
    'exits with code 1 and GANFORGE_ERR_BACKEND_UNAVAILABLE when a forced backend is absent',
    async () => {
      const worker = startWorkerProcess({
        DATABASE_URL: db.url,
        GANFORGE_PREFIX: `test-worker-start-${process.pid}`,
        GANFORGE_BACKEND: 'tensorflow-gpu',
      });

      const [code] = (await once(worker.child, 'exit')) as [number | null];

      expect(code).toBe(1);
      expect(worker.output()).toContain('GANFORGE_ERR_BACKEND_UNAVAILABLE');
      expect(worker.output()).not.toContain('worker ready');
    },
  );
});
