/**
 * `npm run bench:train`: median time of one DCGAN training step (bench/dcgan.ts, batch 64) on
 * the engine ganforge picks, next to the same step in PyTorch when /usr/bin/python3 has torch.
 * Ends with a per-kernel profile of one tfjs step, to show where the time goes.
 *
 * Wall time is what a user waits; CPU time (the process's, all threads) is also shown because on
 * a shared machine other processes inflate wall time, much less CPU time. With one thread the
 * two agree on a quiet machine, and the CPU-time ratio is the steadier comparison. Ratios are
 * against PyTorch at the same thread count and against PyTorch at its fastest thread count (on
 * the 2-core development machine PyTorch ran faster with one thread than with two). The load
 * averages at start are printed too, since other processes inflate wall time.
 *
 * Options: --threads N (wasm threads, default 1), --steps N (timed steps, default 7),
 * --warmup N (default 2), --no-torch, --no-profile.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/gan/engine.js';
import { BenchDcgan, batchSize } from './dcgan.js';

interface TorchResult {
  threads: number;
  torch?: string;
  blas?: string;
  median_ms?: number;
  median_cpu_ms?: number;
  error?: string;
}

interface StepTimes {
  wall: number[];
  cpu: number[];
}

interface Options {
  threads: number;
  steps: number;
  warmup: number;
  torch: boolean;
  profile: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string, fallback: number) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  return {
    threads: value('--threads', 1),
    steps: value('--steps', 7),
    warmup: value('--warmup', 2),
    torch: !argv.includes('--no-torch'),
    profile: !argv.includes('--no-profile'),
  };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Wall and CPU ms of each timed step, after warm-up steps that fill caches and the wasm heap. */
function timeTfjsSteps(model: BenchDcgan, real: tf.Tensor4D, options: Options): StepTimes {
  for (let i = 0; i < options.warmup; i++) model.step(real);
  const times: StepTimes = { wall: [], cpu: [] };
  for (let i = 0; i < options.steps; i++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const [dLoss, gLoss] = model.step(real);
    times.wall.push(performance.now() - start);
    const cpu = process.cpuUsage(cpuStart);
    times.cpu.push((cpu.user + cpu.system) / 1000);
    if (!Number.isFinite(dLoss) || !Number.isFinite(gLoss)) throw new Error('non-finite loss');
  }
  return times;
}

function runTorch(threads: number, options: Options): TorchResult {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'torch_dcgan_step.py');
  const run = spawnSync(
    '/usr/bin/python3',
    [
      script,
      '--threads',
      `${threads}`,
      '--steps',
      `${options.steps}`,
      '--warmup',
      `${options.warmup}`,
    ],
    { encoding: 'utf8' },
  );
  if (run.error) return { threads, error: `cannot run /usr/bin/python3: ${run.error.message}` };
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return { threads, ...(JSON.parse(line) as Omit<TorchResult, 'threads'>) };
  } catch {
    return { threads, error: `torch bench failed: ${run.stderr.trim().split('\n').pop()}` };
  }
}

/** Total kernel time per kernel name and input shapes over one profiled step. */
async function profileStep(model: BenchDcgan, real: tf.Tensor4D): Promise<void> {
  const info = await tf.profile(() => {
    model.step(real);
  });
  const rows = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const kernel of info.kernels) {
    const ms = await kernel.kernelTimeMs;
    if (typeof ms !== 'number') continue;
    const key = `${kernel.name} ${kernel.inputShapes.map((s) => `[${s}]`).join(' ')}`;
    const row = rows.get(key) ?? { ms: 0, calls: 0 };
    row.ms += ms;
    row.calls += 1;
    rows.set(key, row);
    total += ms;
  }
  const top = [...rows.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20);
  console.log(`\nKernel profile of one step (${total.toFixed(0)} ms in kernels, top 20):`);
  console.log('| ms | % | calls | kernel and input shapes |\n|---:|---:|---:|---|');
  for (const [key, row] of top) {
    const share = ((100 * row.ms) / total).toFixed(1);
    console.log(`| ${row.ms.toFixed(1)} | ${share} | ${row.calls} | ${key} |`);
  }
}

export async function benchTrainStep(argv: string[] = process.argv.slice(2)): Promise<void> {
  const options = parseOptions(argv);
  const engine = await initEngine('auto', undefined, { wasmThreads: options.threads });
  const model = new BenchDcgan();
  const real = tf.randomUniform([batchSize, 28, 28, 1], -1, 1, 'float32', 7) as tf.Tensor4D;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`DCGAN step, batch ${batchSize}, 28x28x1; ${os.cpus().length} x ${cpu}`);
  const load = os.loadavg().map((l) => l.toFixed(2));
  console.log(`load average (1, 5, 15 min) at start: ${load.join(', ')}`);
  console.log(`tfjs engine: ${engine.backend} (${engine.detail})`);

  const tfjsTimes = timeTfjsSteps(model, real, options);
  const tfjs = { wall: median(tfjsTimes.wall), cpu: median(tfjsTimes.cpu) };
  const torch = options.torch ? [runTorch(1, options), runTorch(2, options)] : [];
  const threads = Number(/(\d+) threads?/.exec(engine.detail)?.[1] ?? '1');
  const measured = torch.filter((t) => t.median_ms !== undefined && t.median_cpu_ms !== undefined);
  const reference = measured.find((t) => t.threads === threads);
  const fastest = [...measured].sort((a, b) => (a.median_ms ?? 0) - (b.median_ms ?? 0))[0];

  const plural = (n: number) => `${n} thread${n > 1 ? 's' : ''}`;
  const against = `vs PyTorch ${plural(threads)} (wall / CPU)`;
  const best = `vs fastest PyTorch${fastest ? `, ${plural(fastest.threads)}` : ''} (wall / CPU)`;
  console.log(
    `\n| engine | threads | median wall ms/step | median CPU ms/step | ${against} | ${best} |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  const times = (ratio: number) => `${ratio.toFixed(2)}x`;
  const ratio = (wall: number, cpu: number, to?: TorchResult) =>
    to?.median_ms && to.median_cpu_ms
      ? `${times(wall / to.median_ms)} / ${times(cpu / to.median_cpu_ms)}`
      : 'n/a';
  const row = (name: string, n: number, wall: number, cpu: number) =>
    console.log(
      `| ${name} | ${n} | ${wall.toFixed(0)} | ${cpu.toFixed(0)} | ` +
        `${ratio(wall, cpu, reference)} | ${ratio(wall, cpu, fastest)} |`,
    );
  row(`tfjs ${engine.backend}`, threads, tfjs.wall, tfjs.cpu);
  for (const t of measured) {
    const name = `PyTorch ${t.torch}${t.blas ? ` (${t.blas})` : ''}`;
    row(name, t.threads, t.median_ms ?? NaN, t.median_cpu_ms ?? NaN);
  }
  const failed = torch.find((t) => t.error);
  if (failed) {
    console.log(`\nPyTorch not measured: ${failed.error}`);
    console.log('To compare, install it: apt-get install -y python3-torch libopenblas0-pthread');
  }

  if (options.profile) await profileStep(model, real);
  tf.dispose(real);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await benchTrainStep();
}
