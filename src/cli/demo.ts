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

  try {
    await waitForHealthy(baseUrl, group);
    const width = options.width ?? (options.model === 'dcgan' ? demoDcganWidth : undefined);
    const run = await submitRun(baseUrl, { ...options, width });
    console.log(
      `submitted ${options.model} run ${run.id}: width ${run.config.width}, ` +
        `${options.steps} steps, batch ${options.batchSize}`,
    );
    const final = await followRun(baseUrl, run.id, options.steps, group);
    printSummary(config, baseUrl, final, options.keepRunning);
    if (options.keepRunning) {
      console.log('\nthe API and the worker keep running; press Ctrl-C to stop them.');
      await group.firstExit;
    }
    return final.status === 'completed' ? 0 : 1;
  } finally {
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

function freePort(host: string): Promise<number> {
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

async function submitRun(baseUrl: string, options: DemoOptions): Promise<RunSummary> {
  const response = await fetch(`${baseUrl}/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
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
      checkpointEvery: Math.max(1, Math.floor(options.steps / 4)),
    }),
  });
  const body = (await response.json()) as RunSummary & {
    error?: { code: string; message: string };
  };
  if (!response.ok)
    throw new Error(`the API refused the run: ${body.error?.code} ${body.error?.message}`);
  return body;
}

/** Follows the run's event stream to its end, reconnecting from the last event it saw. */
async function followRun(
  baseUrl: string,
  runId: string,
  totalSteps: number,
  group: ChildGroup,
): Promise<RunSummary> {
  const bar = new cliProgress.SingleBar({
    format: ' {bar} {value}/{total} steps | D {dLoss} G {gLoss} | {rate} steps/s | {status}',
    hideCursor: true,
    // Piped into a file or a CI log, the bar still prints a line every few seconds.
    noTTYOutput: true,
    notTTYSchedule: 5000,
  });
  bar.start(totalSteps, 0, { dLoss: '-', gLoss: '-', rate: '-', status: 'queued' });
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
  console.log(`  curl -o grid.png ${baseUrl}/v1/runs/${run.id}/samples/${run.step}.png`);
}
