/**
 * `npm run bench:scheduled-eval`: the wall time of one scheduled evaluation (10,000 generated
 * against 10,000 real images by default) during a DCGAN run on MNIST, and how much it slows the
 * training that goes on beside it.
 *
 * It measures the real system: a `ganforge worker` process (the CLI command) trains a DCGAN
 * (width 32, batch 64, as the demo) from a run row in a scratch Postgres schema, with a Redis key
 * prefix and an artifact directory of its own, all removed afterwards. The run checkpoints and
 * schedules its evaluation at `--eval-step`; the bench cancels it some steps after that
 * evaluation finished, before the next scheduled one.
 *
 * The dataset's classifier is taken from GANFORGE_EXTRACTOR_CACHE_DIR (trained and stored there
 * first when missing, before anything is timed) and copied into the scratch cache, so the timed
 * evaluation never trains it. The real images' features are not cached there: the evaluation
 * computes them, as the first evaluation of a protocol does.
 *
 * Figures come from the database: the evaluation's wall time from its row (created when queued,
 * started, finished), the step rates from the creation times of the run's `loss/d` scalars
 * (one per `--log-every` steps): before the evaluation (after the first `--warmup` steps), while
 * it runs (from its start to its end, the steps at those times interpolated between the logged
 * ones) and after it. The load averages at start are printed, since other processes on the
 * machine slow both.
 *
 * Options: --eval-step N (default 150), --samples N (generated images, 10000), --real-samples N
 * (10000), --metrics fid,is (default fid), --log-every N (5), --warmup N (steps left out of the
 * rate before, 20), --after-steps N (steps trained after the evaluation, fewer when the next
 * scheduled one comes first, 50), --seed N (1), --timeout-min N (30).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { access, cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { resolveTrainingConfig } from '../src/api/run-config.js';
import { loadConfig } from '../src/config.js';
import { createPrismaClient, type PrismaClient } from '../src/db/client.js';
import { syncBuiltInDatasets } from '../src/db/datasets.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { initEngine } from '../src/gan/engine.js';
import { metricNames, type MetricName } from '../src/gan/training-config.js';
import { classifierDir, loadClassifier } from '../src/metrics/extractors/classifier-store.js';
import { requestCancellation } from '../src/queue/cancellation.js';
import { queueTrainingRun } from '../tests/helpers/queued-run.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchServerUrl =
  process.env.GANFORGE_BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ganforge_bench';

interface Options {
  evalStep: number;
  samples: number;
  realSamples: number;
  metrics: MetricName[];
  logEvery: number;
  warmup: number;
  afterSteps: number;
  seed: number;
  timeoutMs: number;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string, fallback: number) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const i = argv.indexOf('--metrics');
  const metrics = (i >= 0 ? argv[i + 1] : 'fid').split(',');
  for (const metric of metrics) {
    if (!(metricNames as readonly string[]).includes(metric))
      throw new Error(`--metrics: no metric named ${metric}`);
  }
  return {
    evalStep: value('--eval-step', 150),
    samples: value('--samples', 10_000),
    realSamples: value('--real-samples', 10_000),
    metrics: metrics as MetricName[],
    logEvery: value('--log-every', 5),
    warmup: value('--warmup', 20),
    afterSteps: value('--after-steps', 50),
    seed: value('--seed', 1),
    timeoutMs: value('--timeout-min', 30) * 60_000,
  };
}

/** The stored classifier, trained into the configured cache first when it is not there. */
async function storedClassifier(cacheDir: string): Promise<{ dir: string; trained: boolean }> {
  const dir = classifierDir(cacheDir, 'mnist');
  const present = await access(path.join(dir, 'manifest.json')).then(
    () => true,
    () => false,
  );
  if (!present) console.log(`no classifier-mnist in ${cacheDir}: training it (not timed) ...`);
  await initEngine(loadConfig().backend);
  const { manifest } = await loadClassifier('mnist', { cacheDir });
  console.log(
    `extractor ${manifest.name}, sha256 ${manifest.sha256.slice(0, 12)}, test accuracy ` +
      `${(manifest.testAccuracy * 100).toFixed(2)}%, ${present ? 'already stored' : 'trained now'}`,
  );
  return { dir, trained: !present };
}

function startWorker(env: Record<string, string>): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker'], {
    cwd: projectRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

/** SIGTERM; SIGKILL when the worker still runs 15 s later (it finishes an evaluation first). */
async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

interface StepPoint {
  step: number;
  /** ms since the epoch */
  at: number;
}

/** Steps per second between the first and the last of these points. */
function stepRate(points: StepPoint[]): number {
  if (points.length < 2) return NaN;
  const first = points[0];
  const last = points[points.length - 1];
  return (last.step - first.step) / ((last.at - first.at) / 1000);
}

/** The (fractional) step the run was at, at time `at`: linear between the logged steps. */
function stepAt(points: StepPoint[], at: number): StepPoint {
  const i = points.findIndex((p) => p.at >= at);
  if (i < 0) throw new Error(`no step logged after ${new Date(at).toISOString()}`);
  if (i === 0) return points[0];
  const [a, b] = [points[i - 1], points[i]];
  return { step: a.step + ((b.step - a.step) * (at - a.at)) / (b.at - a.at), at };
}

type EvaluationRow = Awaited<ReturnType<PrismaClient['evaluation']['findMany']>>[number];

/** The demo's DCGAN with one scheduled evaluation at evalStep, queued for the worker. */
async function submitRun(
  prisma: PrismaClient,
  redis: Redis,
  prefix: string,
  options: Options,
): Promise<string> {
  const dataset = await prisma.dataset.findUnique({ where: { id: 'mnist' } });
  const config = resolveTrainingConfig(
    {
      model: 'dcgan',
      dataset: 'mnist',
      seed: options.seed,
      // Long enough to train all through the evaluation; the bench cancels the run after it.
      steps: options.evalStep * 100,
      batchSize: 64,
      width: 32,
      logEvery: options.logEvery,
      sampleEvery: options.evalStep,
      checkpointEvery: options.evalStep,
      evaluation: {
        every: options.evalStep,
        metrics: options.metrics,
        samples: options.samples,
        realSamples: options.realSamples,
      },
    },
    dataset,
  );
  return queueTrainingRun(prisma, redis, prefix, config);
}

/** Polls `check` until it returns a value, failing when the worker exits or time runs out. */
async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  worker: ReturnType<typeof startWorker>,
  deadline: number,
): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (worker.child.exitCode !== null || Date.now() > deadline)
      throw new Error(
        `no ${what} (worker exit code ${worker.child.exitCode}):\n${worker.output()}`,
      );
    await sleep(500);
  }
}

function printReport(
  evaluations: EvaluationRow[],
  points: StepPoint[],
  afterUntil: number,
  options: Options,
): void {
  const queuedAt = Math.min(...evaluations.map((e) => e.createdAt.getTime()));
  const startedAt = Math.min(...evaluations.map((e) => e.startedAt?.getTime() ?? NaN));
  const finishedAt = Math.max(...evaluations.map((e) => e.finishedAt?.getTime() ?? NaN));
  const before = points.filter((p) => p.step >= options.warmup && p.step <= options.evalStep);
  const start = stepAt(points, startedAt);
  const finish = stepAt(points, finishedAt);
  const after = [finish, ...points.filter((p) => p.at > finishedAt && p.step <= afterUntil)];
  const rateBefore = stepRate(before);
  const rateDuring = stepRate([start, finish]);

  console.log(
    `\nDCGAN width 32, batch 64, MNIST; evaluation at step ${options.evalStep}: ` +
      `${options.samples} generated against ${options.realSamples} test images`,
  );
  console.log('\n| metric | value | queued -> finished s | started -> finished s | status |');
  console.log('|---|---:|---:|---:|---|');
  for (const e of evaluations) {
    const seconds = (from: Date | null) =>
      from && e.finishedAt ? ((e.finishedAt.getTime() - from.getTime()) / 1000).toFixed(1) : '-';
    const status = e.errorCode ? `${e.status} ${e.errorCode}` : e.status;
    console.log(
      `| ${e.metric} | ${e.value?.toFixed(2) ?? '-'} | ${seconds(e.createdAt)} | ` +
        `${seconds(e.startedAt)} | ${status} |`,
    );
  }
  const span = (p: StepPoint[]) =>
    p.length > 1
      ? `steps ${p[0].step.toFixed(0)}-${p[p.length - 1].step.toFixed(0)}, ` +
        `${((p[p.length - 1].at - p[0].at) / 1000).toFixed(1)} s`
      : 'no steps';
  const wall = ((finishedAt - queuedAt) / 1000).toFixed(1);
  console.log(`\nevaluation wall time, queued -> finished: ${wall} s`);
  console.log(`training before the evaluation: ${rateBefore.toFixed(2)} steps/s (${span(before)})`);
  console.log(
    `training while it runs: ${rateDuring.toFixed(2)} steps/s (${span([start, finish])})`,
  );
  console.log(`training after it: ${stepRate(after).toFixed(2)} steps/s (${span(after)})`);
  console.log(`slowdown while it runs: ${(rateBefore / rateDuring).toFixed(2)}x`);
}

async function measure(
  prisma: PrismaClient,
  redis: Redis,
  prefix: string,
  env: Record<string, string>,
  options: Options,
): Promise<void> {
  const runId = await submitRun(prisma, redis, prefix, options);
  const worker = startWorker(env);
  const deadline = Date.now() + options.timeoutMs;
  try {
    const evaluations = await waitFor(
      'finished evaluation',
      async () => {
        const rows = await prisma.evaluation.findMany({
          where: { runId, step: options.evalStep },
        });
        const done = rows.filter((e) => e.status === 'completed' || e.status === 'failed');
        return done.length === options.metrics.length ? done : undefined;
      },
      worker,
      deadline,
    );
    const finishedAt = Math.max(...evaluations.map((e) => e.finishedAt?.getTime() ?? NaN));

    // Trains on for --after-steps more, stopping short of the next scheduled evaluation.
    const loggedUntil = (done: (last: StepPoint) => boolean) => async () => {
      const rows = await prisma.scalar.findMany({
        where: { runId, name: 'loss/d' },
        orderBy: { step: 'asc' },
      });
      const points = rows.map((s) => ({ step: s.step, at: s.createdAt.getTime() }));
      const last = points.at(-1);
      return last && done(last) ? points : undefined;
    };
    const logged = (what: string, done: (last: StepPoint) => boolean) =>
      waitFor(what, loggedUntil(done), worker, deadline);
    let points = await logged('step after the evaluation', (last) => last.at >= finishedAt);
    const afterUntil = Math.min(
      Math.ceil(stepAt(points, finishedAt).step) + options.afterSteps,
      2 * options.evalStep - 2 * options.logEvery,
    );
    points = await logged(`step ${afterUntil}`, (last) => last.step >= afterUntil);
    await requestCancellation(redis, prefix, runId);
    await waitFor(
      'cancelled run',
      async () => {
        const run = await prisma.run.findUniqueOrThrow({ where: { id: runId } });
        return run.status === 'cancelled' ? run : undefined;
      },
      worker,
      deadline,
    );

    printReport(evaluations, points, afterUntil, options);
    if (worker.output().trim()) console.log(`\nworker warnings:\n${worker.output().trim()}`);
  } finally {
    await stopWorker(worker.child);
  }
}

export async function benchScheduledEvaluation(
  argv: string[] = process.argv.slice(2),
): Promise<void> {
  const options = parseOptions(argv);
  const config = loadConfig();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`scheduled evaluation during a DCGAN run; ${os.cpus().length} x ${cpu}`);
  const load = os.loadavg().map((l) => l.toFixed(2));
  console.log(`load average (1, 5, 15 min) at start: ${load.join(', ')}`);
  const classifier = await storedClassifier(config.extractorCacheDir);

  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const url = `${benchServerUrl}?schema=${schema}`;
  const prefix = `bench-scheduled-eval-${process.pid}`;
  const artifactsDir = await mkdtemp(path.join(os.tmpdir(), 'ganforge-bench-eval-'));
  const extractorCacheDir = path.join(artifactsDir, 'extractors');
  await cp(classifier.dir, classifierDir(extractorCacheDir, 'mnist'), { recursive: true });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  let prisma: PrismaClient | undefined;
  try {
    await migrateDatabase(url);
    prisma = createPrismaClient(url);
    await syncBuiltInDatasets(prisma);
    const env = {
      DATABASE_URL: url,
      GANFORGE_PREFIX: prefix,
      GANFORGE_ARTIFACTS_DIR: artifactsDir,
      GANFORGE_EXTRACTOR_CACHE_DIR: extractorCacheDir,
    };
    await measure(prisma, redis, prefix, env, options);
  } finally {
    await prisma?.$disconnect();
    const client = new pg.Client({ connectionString: benchServerUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await client.end();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await rm(artifactsDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await benchScheduledEvaluation();
}
