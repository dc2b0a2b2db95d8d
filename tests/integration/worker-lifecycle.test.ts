/**
 * What the training sandbox is for: a step that takes longer than the job's lock never lets
 * BullMQ think its worker died; and a worker that is stopped (SIGTERM, as on a deploy) saves its
 * run and hands it back, so the next worker continues it without spending a stall or a retry.
 */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { RunEventStream } from '../../src/queue/event-stream.js';
import { createTrainingQueue, trainingQueueName } from '../../src/queue/training-queue.js';
import type { TestDatabase } from '../helpers/database.js';
import { queueTrainingRun } from '../helpers/queued-run.js';
import { waitFor } from '../helpers/wait.js';
import type { WorkerProcess } from '../helpers/worker-process.js';
import { createWorkerStack, type WorkerStack } from '../helpers/worker-stack.js';

let db: TestDatabase;
let redis: Redis;
let stack: WorkerStack;
const prefix = `test-lifecycle-${process.pid}`;

beforeAll(async () => {
  stack = await createWorkerStack('lifecycle');
  ({ db, redis } = stack);
});

afterEach(() => stack.killWorkers());

afterAll(() => stack?.close());

function startWorker(env: Record<string, string> = {}): WorkerProcess {
  return stack.startWorker(env);
}

async function submitRun(overrides: Partial<TrainingConfig>): Promise<string> {
  const config: TrainingConfig = {
    ...trainingDefaults,
    model: 'gan',
    dataset: 'mnist',
    seed: 21,
    sampleCount: 16,
    ...overrides,
  };
  return queueTrainingRun(db.prisma, redis, prefix, config);
}

/** The names of the queue events BullMQ logged for one job, in order. */
async function jobEvents(jobId: string): Promise<string[]> {
  const entries = await redis.xrange(`${prefix}:${trainingQueueName}:events`, '-', '+');
  return entries.flatMap(([, fields]) => {
    const event = Object.fromEntries(
      fields.flatMap((f, i) => (i % 2 ? [] : [[f, fields[i + 1]]])),
    ) as Record<string, string>;
    return event.jobId === jobId ? [event.event] : [];
  });
}

/**
 * Runs here train in real sandbox processes, which on 2 cores share the CPU with the other test
 * files: a run that takes 15 s alone can take several times that, so the wait is long.
 */
const runTimeoutMs = 180_000;

function runStatus(runId: string, statuses: string[]) {
  return waitFor(
    `the run to be ${statuses.join(' or ')}`,
    async () => {
      const run = await db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
      return statuses.includes(run.status) ? run : undefined;
    },
    runTimeoutMs,
  );
}

describe('the training sandbox', { timeout: 2 * runTimeoutMs }, () => {
  it('keeps the job locked through steps longer than the lock itself', async () => {
    // An MLP GAN step at batch 1024 takes seconds on wasm; the lock lives one second.
    const runId = await submitRun({ steps: 3, batchSize: 1024, logEvery: 1, checkpointEvery: 3 });
    startWorker({ GANFORGE_JOB_LOCK_MS: '1000', GANFORGE_STALLED_INTERVAL_MS: '500' });

    const run = await runStatus(runId, ['completed', 'failed']);

    expect(run.status).toBe('completed');
    const timings = await db.prisma.scalar.findMany({
      where: { runId, name: 'perf/steps_per_second' },
    });
    // The premise: at least one step took longer than the lock.
    expect(Math.min(...timings.map((t) => t.value))).toBeLessThan(1);
    const job = await createTrainingQueue(redis, prefix).getJob(runId);
    expect(job?.stalledCounter).toBe(0);
    expect(await jobEvents(runId)).not.toContain('stalled');
    expect((await jobEvents(runId)).filter((e) => e === 'active')).toHaveLength(1);
  });

  it('hands a run back when its worker is stopped, and the next worker continues it', async () => {
    // Short enough that the rest of the run finishes within a minute on 2 busy cores.
    const steps = 120;
    const runId = await submitRun({
      steps,
      batchSize: 32,
      logEvery: 5,
      checkpointEvery: 1000,
    });
    const first = startWorker();
    await waitFor('the run to pass step 20', async () => {
      const run = await db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
      return run.step >= 20 ? run : undefined;
    });

    await first.stop();

    expect(first.child.exitCode).toBe(0);
    const handedBack = await db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    expect(handedBack.status).toBe('queued');
    const saved = await db.prisma.checkpoint.findMany({ where: { runId } });
    expect(saved).toHaveLength(1);
    expect(saved[0].step).toBeGreaterThanOrEqual(20);
    expect(saved[0].step).toBeLessThan(steps);
    const queue = createTrainingQueue(redis, prefix);
    const waiting = await queue.getJob(runId);
    expect(await waiting?.getState()).toBe('waiting');
    expect(waiting?.stalledCounter).toBe(0);
    expect(waiting?.attemptsMade).toBe(0);

    startWorker();
    const run = await runStatus(runId, ['completed', 'failed']);

    expect(run).toMatchObject({ status: 'completed', step: steps });
    const events = await new RunEventStream(redis, { prefix, maxLen: 10_000 }).read(runId);
    const resumes = events.filter((e) => e.kind === 'log').map((e) => e.step);
    expect(resumes).toEqual([saved[0].step]);
    const statuses = events.flatMap((e) => (e.kind === 'status' ? [e.status] : []));
    expect(statuses).toEqual(['running', 'queued', 'running', 'completed']);
    const finished = await queue.getJob(runId);
    expect(finished?.stalledCounter).toBe(0);
    expect(await jobEvents(runId)).not.toContain('failed');
    await queue.close();
  });
});
