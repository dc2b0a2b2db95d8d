/**
 * `ganforge demo`: the quick start in one command. It brings up the API and one worker on this
 * machine, submits a short run on MNIST over HTTP (DCGAN unless another model is asked for),
 * draws its progress from the run's WebSocket stream, and ends by printing where the samples and
 * checkpoints are and how to query the run.
 */
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import WebSocket from 'ws';
import type { CreateRunRequest } from '../api/schemas/runs.js';
import type { Config } from '../config.js';
import { migrateDatabase } from '../db/migrate.js';
import type { RunEvent } from '../queue/run-events.js';
import { sampleArtifactPath } from '../storage/run-artifacts.js';
import { spawnCommands, type ChildGroup } from './child-processes.js';
import { assertServicesReachable, ServicesUnreachableError } from './services.js';

export interface DemoOptions {
  model: string;
  steps: number;
  batchSize: number;
  width?: number;
  /** progan's phase lengths; the model's defaults when absent. */
  stableSteps?: number;
  fadeSteps?: number;
  seed: number;
  /**
   * Score FID and IS every this many steps (and at the last step) while the run trains; the run
   * then checkpoints at the same interval. Absent: no scheduled evaluation.
   */
  evaluateEvery?: number;
  /** Keep the API and worker up after the run, so the printed queries can be tried at once. */
  keepRunning: boolean;
}

interface RunSummary {
  id: string;
  status: string;
  step: number;
  backend: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  config: { width?: number };
}

interface EvaluationSummary {
  step: number;
  metric: string;
  status: string;
  value: number | null;
  extractorName: string | null;
  extractorSha256: string | null;
  generatedSamples: number;
  realSamples: number;
  realSplit: string;
  errorCode: string | null;
}

/** Metrics of the demo's scheduled evaluations, and the images each one generates. */
const demoEvaluationMetrics = ['fid', 'is'] as const;
const demoEvaluationSamples = 1000;

/**
 * Half the DCGAN default: a 32/64-channel DCGAN steps ~3x faster on a CPU and draws clear digits
 * after 1,500 steps, which the quick start reaches in minutes.
 */
const demoDcganWidth = 32;

export async function runDemo(config: Config, options: DemoOptions): Promise<number> {
  try {
    await assertServicesReachable(config);
  } catch (err) {
    if (!(err instanceof ServicesUnreachableError)) throw err;
    console.error(`ganforge needs PostgreSQL and Redis:\n${err.message}`);
    return 1;
  }
  console.log('applying database migrations ...');
  await migrateDatabase(config.databaseUrl);

  const port = (await isPortFree(config.host, config.port))
    ? config.port
    : await freePort(config.host);
  const baseUrl = `http://${config.host}:${port}`;
  const logDir = path.resolve('var/logs');
  console.log(`starting the API on ${baseUrl} and one worker (logs in ${logDir}) ...`);
  const group = await spawnCommands(['api', 'worker'], { logDir, env: { PORT: String(port) } });
  // Killed by a signal, the demo takes its API and worker with it (the worker hands its run back).
  const exitCodes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };
  const onSignal = (signal: NodeJS.Signals) => {
    void group.stop().finally(() => process.exit(exitCodes[signal]));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    await waitForHealthy(baseUrl, group);
    const width = options.width ?? (options.model === 'dcgan' ? demoDcganWidth : undefined);
    const run = await submitRun(baseUrl, { ...options, width }).catch((err: unknown) => {
      if (!(err instanceof RunRefusedError)) throw err;
      console.error(err.message);
      return null;
    });
    if (!run) return 1;
    console.log(
      `submitted ${options.model} run ${run.id}: width ${run.config.width}, ` +
        `${options.steps} steps, batch ${options.batchSize}`,
    );
    const final = await followRun(baseUrl, run.id, options, group);
    printSummary(config, baseUrl, final, options.keepRunning);
    if (options.evaluateEvery) printEvaluations(await waitForEvaluations(baseUrl, run.id, group));
    if (options.keepRunning) {
      console.log('\nthe API and the worker keep running; press Ctrl-C to stop them.');
      await group.firstExit;
    }
    return final.status === 'completed' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await group.stop();
  }
}

function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port the OS calls free on `host` now (for a server started right after). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealthy(baseUrl: string, group: ChildGroup): Promise<void> {
  const exited = group.firstExit.then(({ name, code }) => {
    throw new Error(
      `the ${name} process exited (code ${code}) during start; see var/logs/${name}.log`,
    );
  });
  const healthy = (async () => {
    for (let attempt = 0; attempt < 240; attempt += 1) {
      try {
        const response = await fetch(`${baseUrl}/healthz`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(500);
    }
    throw new Error(`the API did not answer at ${baseUrl}/healthz within two minutes`);
  })();
  await Promise.race([healthy, exited]);
}

/** The demo's POST /v1/runs body: ten sample grids, four checkpoints unless it evaluates. */
export function demoRunRequest(options: DemoOptions): CreateRunRequest {
  return {
    model: options.model,
    dataset: 'mnist',
    seed: options.seed,
    steps: options.steps,
    batchSize: options.batchSize,
    width: options.width,
    stableSteps: options.stableSteps,
    fadeSteps: options.fadeSteps,
    logEvery: 5,
    sampleEvery: Math.max(1, Math.floor(options.steps / 10)),
    checkpointEvery: options.evaluateEvery ?? Math.max(1, Math.floor(options.steps / 4)),
    evaluation: options.evaluateEvery
      ? {
          every: options.evaluateEvery,
          metrics: [...demoEvaluationMetrics],
          samples: demoEvaluationSamples,
        }
      : undefined,
  };
}

/** The API answered the demo's run with an error (an option the model does not take). */
class RunRefusedError extends Error {}

async function submitRun(baseUrl: string, options: DemoOptions): Promise<RunSummary> {
  const response = await fetch(`${baseUrl}/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(demoRunRequest(options)),
  });
  const body = (await response.json()) as RunSummary & {
    error?: { code: string; message: string };
  };
  if (!response.ok)
    throw new RunRefusedError(
      `the API refused the run: ${body.error?.code} ${body.error?.message}`,
    );
  return body;
}

/** Follows the run's event stream to its end, reconnecting from the last event it saw. */
async function followRun(
  baseUrl: string,
  runId: string,
  options: DemoOptions,
  group: ChildGroup,
): Promise<RunSummary> {
  const scores = options.evaluateEvery ? ' | FID {fid} IS {is}' : '';
  const bar = new cliProgress.SingleBar({
    format: ` {bar} {value}/{total} steps | D {dLoss} G {gLoss} | {rate} steps/s${scores} | {status}`,
    hideCursor: true,
    // Piped into a file or a CI log, the bar still prints a line every few seconds.
    noTTYOutput: true,
    notTTYSchedule: 5000,
  });
  bar.start(options.steps, 0, {
    dLoss: '-',
    gLoss: '-',
    rate: '-',
    fid: '-',
    is: '-',
    status: 'queued',
  });
  let lastSeq: string | undefined;
  let finished = false;
  const workerDied = group.firstExit.then(({ name, code }) => {
    if (!finished)
      throw new Error(`the ${name} process exited (code ${code}); see var/logs/${name}.log`);
  });

  try {
    while (!finished) {
      const streamUrl = `${baseUrl.replace(/^http/, 'ws')}/v1/runs/${runId}/stream`;
      const socket = new WebSocket(lastSeq ? `${streamUrl}?after=${lastSeq}` : streamUrl);
      const closed = new Promise<void>((resolve) => {
        socket.on('message', (data) => {
          const event = JSON.parse(String(data)) as RunEvent;
          lastSeq = event.seq;
          if (event.kind === 'scalars') {
            bar.update(event.step, {
              dLoss: event.values['loss/d']?.toFixed(3),
              gLoss: event.values['loss/g']?.toFixed(3),
              rate: event.values['perf/steps_per_second']?.toFixed(2),
            });
          } else if (event.kind === 'evaluation' && event.value !== null) {
            bar.update({ [event.metric]: `${event.value.toFixed(2)} (step ${event.step})` });
          } else if (event.kind === 'status') {
            bar.update(event.step, { status: event.status });
            if (['completed', 'failed', 'cancelled', 'diverged'].includes(event.status)) {
              finished = true;
              socket.close();
            }
          }
        });
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
      });
      await Promise.race([closed, workerDied]);
      if (!finished) await sleep(1000);
    }
  } finally {
    bar.stop();
  }
  const response = await fetch(`${baseUrl}/v1/runs/${runId}`);
  return (await response.json()) as RunSummary;
}

/**
 * The scheduled evaluations once none is queued or running: the last checkpoint's are scored
 * after the run ends.
 */
async function waitForEvaluations(
  baseUrl: string,
  runId: string,
  group: ChildGroup,
): Promise<EvaluationSummary[]> {
  console.log('\nwaiting for the last scheduled evaluations ...');
  let stopped = false;
  const workerDied = group.firstExit.then(({ name, code }) => {
    if (!stopped)
      throw new Error(`the ${name} process exited (code ${code}); see var/logs/${name}.log`);
  });
  const finished = (async () => {
    for (;;) {
      const response = await fetch(`${baseUrl}/v1/runs/${runId}/evaluations`);
      const { items } = (await response.json()) as { items: EvaluationSummary[] };
      if (items.every((item) => item.status === 'completed' || item.status === 'failed'))
        return items;
      await sleep(2000);
    }
  })();
  try {
    return await Promise.race([finished, workerDied.then(() => [])]);
  } finally {
    stopped = true;
  }
}

function printEvaluations(evaluations: EvaluationSummary[]): void {
  if (evaluations.length === 0) {
    console.log('\nno scheduled evaluation was queued: the run stopped before its first one');
    return;
  }
  // IS rows compare against no real images; the protocol line describes the FID rows.
  const first = evaluations.find((item) => item.extractorSha256 && item.realSamples > 0);
  if (first) {
    console.log(
      `\nscheduled evaluations: ${first.generatedSamples} generated images against ` +
        `${first.realSamples} ${first.realSplit} images, features of ${first.extractorName} ` +
        `(sha256 ${first.extractorSha256?.slice(0, 12)})`,
    );
  }
  const steps = [...new Set(evaluations.map((item) => item.step))];
  console.log(`\n| step | ${demoEvaluationMetrics.map((m) => m.toUpperCase()).join(' | ')} |`);
  console.log(`|---:|${demoEvaluationMetrics.map(() => '---:').join('|')}|`);
  for (const step of steps) {
    const cells = demoEvaluationMetrics.map((metric) => {
      const item = evaluations.find((e) => e.step === step && e.metric === metric);
      if (!item) return '-';
      return item.value === null ? (item.errorCode ?? item.status) : item.value.toFixed(2);
    });
    console.log(`| ${step} | ${cells.join(' | ')} |`);
  }
}

function printSummary(
  config: Config,
  baseUrl: string,
  run: RunSummary,
  keepRunning: boolean,
): void {
  console.log(`\nrun ${run.id} ${run.status} at step ${run.step} on the ${run.backend} backend`);
  if (run.errorCode) console.log(`error: ${run.errorCode} ${run.errorMessage}`);
  const runDir = path.join(config.artifactsDir, 'runs', run.id);
  console.log(`\nsample grids (PNG): ${path.join(runDir, 'samples')}`);
  console.log(`  latest: ${path.join(config.artifactsDir, sampleArtifactPath(run.id, run.step))}`);
  console.log(`checkpoints: ${path.join(runDir, 'checkpoints')}`);
  const serveHint = keepRunning ? '' : ' (start the server again with `npm start`)';
  console.log(`\nquery the run over HTTP${serveHint}:`);
  console.log(`  curl ${baseUrl}/v1/runs/${run.id}`);
  console.log(`  curl '${baseUrl}/v1/runs/${run.id}/scalars?name=loss/d'`);
  console.log(`  curl ${baseUrl}/v1/runs/${run.id}/samples`);
  console.log(`  curl ${baseUrl}/v1/runs/${run.id}/checkpoints`);
  console.log(`  curl ${baseUrl}/v1/runs/${run.id}/evaluations`);
  console.log(`  curl -o grid.png ${baseUrl}/v1/runs/${run.id}/samples/${run.step}.png`);
}
