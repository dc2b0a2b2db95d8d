/**
 * ../shared/cases/15-bullmq-worker-crash-stalled-job, scripts A and B: worker processes killed
 * with SIGKILL in the middle of a run, with the case's worker options. One death resumes from the
 * last checkpoint and completes; a second death exceeds maxStalledCount and the run row says
 * `failed`, never `running` forever. A killed worker's training sandbox dies with it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { trainingDefaults, type TrainingConfig } from '../../src/gan/training-config.js';
import { RunEventStream } from '../../src/queue/event-stream.js';
import type { RunEvent } from '../../src/queue/run-events.js';
import { readCase } from '../helpers/cases.js';
import { createTrainingQueue } from '../../src/queue/training-queue.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { queueTrainingRun } from '../helpers/queued-run.js';
import { waitFor } from '../helpers/wait.js';
import { isAlive, startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';

const caseName = '15-bullmq-worker-crash-stalled-job';

interface Scenario {
  worker_options: { lockDuration_ms: number; stalledInterval_ms: number; maxStalledCount: number };
  job: { total_steps: number; checkpoint_every: number; progress_every: number };
  scripts: Record<string, { event: string; step?: number }[]>;
}
interface Outcome {
  state: string;
  stalledCounter: number;
  attemptsMade: number;
  step: number;
  last_checkpoint: number;
  resumed_from_steps: number[];
  failedReason: string | null;
  db_status: string;
}

const scenario = readCase<Scenario>(caseName, 'scenario.json');
const expected = readCase<Record<string, Outcome>>(caseName, 'expected.json');
const options = scenario.worker_options;

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

// Each script starts its own workers; one left over would take the next script's job.
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.kill()));
});

afterAll(async () => {
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
    GANFORGE_JOB_LOCK_MS: String(options.lockDuration_ms),
    GANFORGE_STALLED_INTERVAL_MS: String(options.stalledInterval_ms),
    GANFORGE_MAX_STALLED: String(options.maxStalledCount),
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
    steps: scenario.job.total_steps,
    batchSize: 64,
    logEvery: scenario.job.progress_every,
    sampleEvery: 50,
    checkpointEvery: scenario.job.checkpoint_every,
    sampleCount: 16,
  };
  return queueTrainingRun(db.prisma, redis, prefix, config);
}

async function events(runId: string): Promise<RunEvent[]> {
  return new RunEventStream(redis, { prefix, maxLen: 10_000 }).read(runId);
}

/** The steps at which a script kills a worker: the `progress_to` before each `kill_process`. */
function killSteps(script: string): number[] {
  const steps = scenario.scripts[script];
  return steps.flatMap((event, i) =>
    event.event === 'kill_process' ? [steps[i - 1].step as number] : [],
  );
}

/**
 * Kills `worker` with SIGKILL as soon as the run has a checkpoint at `step`, then checks that its
 * sandbox went with it: a trainer left behind would go on writing a run that another resumes.
 */
async function killAtCheckpoint(worker: WorkerProcess, runId: string, step: number) {
  await waitFor(`a checkpoint at step ${step}`, async () => {
    const found = await db.prisma.checkpoint.findFirst({ where: { runId, step: { gte: step } } });
    return found ?? undefined;
  });
  const sandboxes = worker.sandboxPids();
  expect(sandboxes).toHaveLength(1);
  await worker.kill();
  await waitFor('the killed worker’s sandbox to exit', async () =>
    sandboxes.some(isAlive) ? undefined : true,
  );
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

/**
 * The job once BullMQ has settled it. The run row is finished by the processor (or by the
 * reconciler) a moment before BullMQ moves the job, so reading the job's state as soon as the row
 * says finished races with that move on a busy machine.
 */
async function settledJob(runId: string) {
  const queue = createTrainingQueue(redis, prefix);
  try {
    return await waitFor('the job to settle', async () => {
      const job = await queue.getJob(runId);
      const state = await job?.getState();
      return job && (state === 'completed' || state === 'failed') ? { job, state } : undefined;
    });
  } finally {
    await queue.close();
  }
}

/** The run's last status event, once it is a terminal one (it follows the row's update). */
async function finalStatusEvent(runId: string) {
  return waitFor('the terminal status event', async () => {
    const last = (await events(runId)).filter((e) => e.kind === 'status').at(-1);
    return last && last.status !== 'running' && last.status !== 'queued' ? last : undefined;
  });
}

/**
 * BullMQ 5 counts in attemptsMade every attempt that ended, the last one included: the one that
 * completed (A), or the one that found the stall limit exceeded (B). The case counts the attempts
 * that processor failures used up: all but that last one.
 */
function failedAttempts(attemptsMade: number | undefined): number | undefined {
  return attemptsMade === undefined ? undefined : attemptsMade - 1;
}

async function resumedFrom(runId: string): Promise<number[]> {
  return (await events(runId))
    .filter((e) => e.kind === 'log' && e.message.startsWith('resumed from the checkpoint'))
    .map((e) => e.step);
}

describe('a training worker killed mid-run (case 15)', () => {
  it('resumes once from the last checkpoint and completes (script A)', async () => {
    const want = expected.A_one_crash;
    const [killStep] = killSteps('A_one_crash');
    const runId = await submitRun(11);
    const killedAt = await killAtCheckpoint(startWorker(), runId, killStep);

    startWorker();
    const run = await finalRun(runId);

    expect(run).toMatchObject({ status: want.db_status, step: want.step, errorCode: null });
    const { job, state } = await settledJob(runId);
    expect(state).toBe(want.state);
    expect(job.stalledCounter).toBe(want.stalledCounter);
    expect(failedAttempts(job.attemptsMade)).toBe(want.attemptsMade);
    expect(await resumedFrom(runId)).toEqual([killedAt]);
    expect(killedAt).toBe(want.resumed_from_steps[0]);
    // The second attempt's first losses are those of the step after its checkpoint.
    const all = await events(runId);
    const resume = all.findIndex((e) => e.kind === 'log');
    const scalarsAfter = all.slice(resume).filter((e) => e.kind === 'scalars');
    expect(scalarsAfter[0].step).toBe(killedAt + scenario.job.progress_every);
    expect(scalarsAfter.at(-1)?.step).toBe(want.step);
    const stored = await db.prisma.scalar.findMany({ where: { runId, name: 'loss/d' } });
    const every = scenario.job.progress_every;
    expect(stored.map((s) => s.step).sort((a, b) => a - b)).toEqual(
      Array.from({ length: want.step / every }, (_, i) => (i + 1) * every),
    );
  });

  it('fails the run when its worker dies more often than maxStalledCount (script B)', async () => {
    const want = expected.B_two_crashes;
    const [firstKill, secondKill] = killSteps('B_two_crashes');
    const runId = await submitRun(12);
    await killAtCheckpoint(startWorker(), runId, firstKill);
    const lastCheckpoint = await killAtCheckpoint(startWorker(), runId, secondKill);
    startWorker();

    const run = await finalRun(runId);

    expect(run.status).toBe(want.db_status);
    expect(run.errorCode).toBe('GANFORGE_ERR_STALLED');
    expect(run.errorMessage).toContain(want.failedReason);
    expect(lastCheckpoint).toBe(want.last_checkpoint);
    const { job, state } = await settledJob(runId);
    expect(state).toBe(want.state);
    expect(job.stalledCounter).toBe(want.stalledCounter);
    expect(failedAttempts(job.attemptsMade)).toBe(want.attemptsMade);
    expect(await resumedFrom(runId)).toEqual(want.resumed_from_steps);
    expect(await finalStatusEvent(runId)).toMatchObject({
      status: 'failed',
      errorCode: 'GANFORGE_ERR_STALLED',
    });
  });
});
