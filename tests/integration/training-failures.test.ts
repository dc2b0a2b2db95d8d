/**
 * How a training job fails (../shared/cases/15-bullmq-worker-crash-stalled-job, scripts C and D):
 * a divergence is deterministic, so it fails at once without a retry; a transient fault is
 * retried with exponential backoff and fails the run only when the attempts run out.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { RunEventStream } from '../../src/queue/event-stream.js';
import { createTrainingQueue, trainingQueueName } from '../../src/queue/training-queue.js';
import { startTrainingWorker } from '../../src/worker/worker.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { queueTrainingRun } from '../helpers/queued-run.js';
import { waitFor } from '../helpers/wait.js';

let db: TestDatabase;
let redis: Redis;
let artifactsDir: string;
const prefix = `test-failures-${process.pid}`;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  artifactsDir = await mkdtemp(path.join(tmpdir(), 'ganforge-failures-'));
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.drop();
  await rm(artifactsDir, { recursive: true, force: true });
});

async function withWorker<T>(artifactStore: string, body: () => Promise<T>): Promise<T> {
  const config = {
    ...loadConfig({}),
    databaseUrl: db.url,
    artifactsDir: artifactStore,
    prefix,
    backend: 'wasm' as const,
    logLevel: 'silent',
  };
  const worker = await startTrainingWorker({
    config,
    prisma: db.prisma,
    redis,
    events: new RunEventStream(redis, { prefix, maxLen: 1000 }),
    logger: pino({ level: 'silent' }),
  });
  try {
    return await body();
  } finally {
    await worker.close();
  }
}

async function submitRun(overrides: Partial<TrainingConfig>): Promise<string> {
  const config: TrainingConfig = {
    ...trainingDefaults,
    model: 'gan',
    dataset: 'mnist',
    seed: 3,
    steps: 40,
    batchSize: 16,
    logEvery: 1,
    sampleEvery: 20,
    checkpointEvery: 20,
    sampleCount: 4,
    ...overrides,
  };
  return queueTrainingRun(db.prisma, redis, prefix, config);
}

function finished(runId: string) {
  return waitFor('the run to finish', async () => {
    const run = await db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    return ['completed', 'failed', 'cancelled', 'diverged'].includes(run.status) ? run : undefined;
  });
}

/** When each attempt of a job began: BullMQ's own event log, whose ids are millisecond times. */
async function attemptStartTimes(jobId: string): Promise<number[]> {
  const entries = await redis.xrange(`${prefix}:${trainingQueueName}:events`, '-', '+');
  return entries
    .filter(([, fields]) => {
      const event = Object.fromEntries(
        fields.flatMap((f, i) => (i % 2 ? [] : [[f, fields[i + 1]]])),
      );
      return event.event === 'active' && event.jobId === jobId;
    })
    .map(([id]) => Number(id.split('-')[0]));
}

describe('training job failures', () => {
  it('stops a run whose loss turns non-finite at once, without a retry', async () => {
    // A learning rate this large throws the weights to infinity within a few steps.
    const runId = await submitRun({ learningRate: 1e30, steps: 200 });

    const run = await withWorker(artifactsDir, () => finished(runId));

    expect(run.status).toBe('diverged');
    expect(run.errorCode).toBe('GANFORGE_ERR_DIVERGED');
    expect(run.errorMessage).toMatch(/^diverged: non-finite loss at step \d+$/);
    const job = await createTrainingQueue(redis, prefix).getJob(runId);
    expect(job?.attemptsMade).toBe(1);
    expect(await job?.getState()).toBe('failed');
  });

  it('retries a transient fault with exponential backoff, then fails the run', async () => {
    // An artifact store below a regular file: every write fails with ENOTDIR, as a disk fault
    // would, and nothing in the error says the run itself is bad.
    const blocker = path.join(artifactsDir, 'not-a-directory');
    await writeFile(blocker, '');
    const runId = await submitRun({ seed: 4 });

    const run = await withWorker(path.join(blocker, 'store'), () => finished(runId));

    expect(run.status).toBe('failed');
    expect(run.errorCode).toBe('GANFORGE_ERR_INTERNAL');
    expect(run.errorMessage).toContain('ENOTDIR');
    const job = await createTrainingQueue(redis, prefix).getJob(runId);
    expect(job?.attemptsMade).toBe(3);
    expect(job?.failedReason).toContain('ENOTDIR');
    const attemptStarts = await attemptStartTimes(runId);
    const delays = attemptStarts.slice(1).map((t, i) => t - attemptStarts[i]);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(500);
    expect(delays[1]).toBeGreaterThanOrEqual(1000);
  });
});
