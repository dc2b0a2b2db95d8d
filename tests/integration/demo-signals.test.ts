/**
 * `ganforge demo` runs the API and a worker as child processes: stopped by a signal, it stops them
 * too (how a stopped worker hands its run back is worker-lifecycle.test.ts).
 * A run the API refuses ends the demo with its coded error, not a stack trace.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/cli/demo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/wait.js';
import { isAlive } from '../helpers/worker-process.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const prefix = `test-demo-signals-${process.pid}`;
let db: TestDatabase;
let artifactsDir: string;
/** Processes to kill if the test fails before the demo stops them. */
const started: number[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  artifactsDir = await mkdtemp(path.join(tmpdir(), 'ganforge-demo-signals-'));
});

afterAll(async () => {
  for (const pid of started.filter(isAlive)) process.kill(pid, 'SIGKILL');
  const redis = new Redis('redis://127.0.0.1:6379');
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.drop();
  await rm(artifactsDir, { recursive: true, force: true });
});

/** The API and worker processes a demo started (not tsx's esbuild service beside them). */
function childPids(pid: number): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], {
      encoding: 'utf8',
    });
    return out.split('\n').flatMap((line) => {
      const match = /^\s*(\d+)\s.*cli\.[jt]s (api|worker)$/.exec(line);
      return match ? [Number(match[1])] : [];
    });
  } catch {
    return []; // ps exits 1 when there are none
  }
}

async function startDemo(args: string[]) {
  const demo = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'demo', ...args], {
    cwd: projectRoot,
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      GANFORGE_PREFIX: prefix,
      GANFORGE_ARTIFACTS_DIR: artifactsDir,
      GANFORGE_BACKEND: 'wasm',
      PORT: String(await freePort('127.0.0.1')),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { demo, output: () => output };
}

describe('ganforge demo', () => {
  it('stops its API and worker on SIGTERM', async () => {
    const { demo, output } = await startDemo(['--model', 'gan', '--steps', '100000']);
    const exited = once(demo, 'exit');
    started.push(demo.pid!);

    await waitFor(
      'the demo run to train',
      async () => {
        const row = await db.prisma.run.findFirst();
        return row?.status === 'running' && row.step > 0 ? row : undefined;
      },
      60_000,
    );
    const children = childPids(demo.pid!);
    started.push(...children);
    expect(children).toHaveLength(2);

    demo.kill('SIGTERM');
    const [code] = await exited;

    expect(code, output()).toBe(143);
    expect(children.filter(isAlive)).toEqual([]);
  }, 90_000);

  it('ends with the coded error of a run the API refuses', async () => {
    const { demo, output } = await startDemo(['--model', 'dcgan', '--stable-steps', '40']);
    const [code] = await once(demo, 'exit');

    expect(code).toBe(1);
    expect(output()).toMatch(/GANFORGE_ERR_INVALID_CONFIG stableSteps does not apply/);
    expect(output()).not.toMatch(/\n\s+at /);
  }, 90_000);
});
