/**
 * ../shared/cases/15-bullmq-worker-crash-stalled-job: worker processes killed with SIGKILL in the
 * middle of a run. One death resumes from the last checkpoint and completes; a second death
 * exceeds maxStalledCount and the run row says `failed`, never `running` forever.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { RunEventStream } from '../../src/queue/event-stream.js';
import type { RunEvent } from '../../src/queue/run-events.js';
import { createTrainingQueue, enqueueTrainingRun } from '../../src/queue/training-queue.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/wait.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

const scenario = { lockMs: 2000, stalledIntervalMs: 1000, maxStalledCount: 1 };

let db: TestDatabase;
let redis: Redis;
let artifactsDir: string;
const prefix = `test-crash-${process.pid}`;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  artifactsDir = await mkdtemp(path.join(tmpdir(), 'ganforge-crash-'));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.drop();
  await rm(artifactsDir, { recursive: true, force: true });
});

function startWorker(): WorkerProcess {
  const worker = startWorkerProcess({
    DATABASE_URL: db.url,
    GANFORGE_PREFIX: prefix,
    GANFORGE_ARTIFACTS_DIR: artifactsDir,
    GANFORGE_BACKEND: 'wasm',
    GANFORGE_JOB_LOCK_MS: String(scenario.lockMs),
    GANFORGE_STALLED_INTERVAL_MS: String(scenario.stalledIntervalMs),
    GANFORGE_MAX_STALLED: String(scenario.maxStalledCount),
  });
  workers.push(worker);
  return worker;
}

async function submitRun(seed: number): Promise<string> {
  const config: TrainingConfig = {
    ...trainingDefaults,
    model: 'gan',
    dataset: 'mnist',
    seed,
    steps: 100,
    batchSize: 256,
    logEvery: 10,
    sampleEvery: 50,
    checkpointEvery: 10,
    sampleCount: 16,
  };
  const run = await db.prisma.run.create({
    data: {
      model: config.model,
      datasetId: config.dataset,
      config: { ...config },
      seed,
      totalSteps: config.steps,
    },
  });
  const queue = createTrainingQueue(redis, prefix);
  await enqueueTrainingRun(queue, run.id);
  await queue.close();
  return run.id;
}

async function events(runId: string): Promise<RunEvent[]> {
  return new RunEventStream(redis, { prefix, maxLen: 10_000 }).read(runId);
}

/** Kills `worker` as soon as the run has a checkpoint at `step` or later; returns the newest. */
async function killAfterCheckpoint(worker: WorkerProcess, runId: string, step: number) {
  await waitFor(`a checkpoint at step ${step}`, async () => {
    const found = await db.prisma.checkpoint.findFirst({ where: { runId, step: { gte: step } } });
    return found ?? undefined;
  });
  await worker.kill();
  const newest = await db.prisma.checkpoint.findFirst({
    where: { runId },
    orderBy: { step: 'desc' },
  });
  return newest!.step;
}

async function finalRun(runId: string) {
  return waitFor('the run to finish', async () => {
    const run = await db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    return ['completed', 'failed', 'cancelled', 'diverged'].includes(run.status) ? run : undefined;
  });
}

describe('a training worker killed mid-run (case 15)', () => {
  it('resumes once from the last checkpoint and completes', async () => {
    const runId = await submitRun(11);
    const first = startWorker();
    const killedAt = await killAfterCheckpoint(first, runId, 40);

    startWorker();
    const run = await finalRun(runId);

    expect(run).toMatchObject({ status: 'completed', step: 100, errorCode: null });
    const job = await createTrainingQueue(redis, prefix).getJob(runId);
    expect(job?.stalledCounter).toBe(1);
    expect(job?.attemptsMade).toBe(0);
    const resumes = (await events(runId)).filter(
      (e) => e.kind === 'log' && e.message.startsWith('resumed from the checkpoint'),
    );
    expect(resumes.map((e) => e.step)).toEqual([killedAt]);
    const scalarSteps = (await events(runId))
      .filter((e) => e.kind === 'scalars')
      .map((e) => e.step);
    // Steps rise within each attempt; the second attempt restarts just after the checkpoint.
    const restart = scalarSteps.findIndex((s, i) => i > 0 && s <= scalarSteps[i - 1]);
    expect(scalarSteps.slice(restart)[0]).toBe(killedAt + 10);
    expect(scalarSteps.at(-1)).toBe(100);
    const stored = await db.prisma.scalar.findMany({ where: { runId, name: 'loss/d' } });
    expect(stored.map((s) => s.step).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 10 }, (_, i) => (i + 1) * 10),
    );
  });

  it('fails the run when its worker dies more often than maxStalledCount', async () => {
    const runId = await submitRun(12);
    const first = startWorker();
    await killAfterCheckpoint(first, runId, 40);
    const second = startWorker();
    await killAfterCheckpoint(second, runId, 60);
    startWorker();

    const run = await finalRun(runId);

    expect(run.status).toBe('failed');
    expect(run.errorCode).toBe('GANFORGE_ERR_STALLED');
    expect(run.errorMessage).toContain('job stalled more than allowable limit');
    const job = await createTrainingQueue(redis, prefix).getJob(runId);
    expect(await job?.getState()).toBe('failed');
    const statuses = (await events(runId)).filter((e) => e.kind === 'status');
    expect(statuses.at(-1)).toMatchObject({ status: 'failed', errorCode: 'GANFORGE_ERR_STALLED' });
  });
});
