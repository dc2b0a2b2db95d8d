/**
 * `npm run bench:gemm`: the matrix products one bench DCGAN step (bench/dcgan.ts) performs, in
 * tfjs-wasm (tf.matMul: XNNPACK's GEMM, 128-bit wasm SIMD) and in numpy.matmul (the native BLAS
 * /usr/bin/python3's numpy loads, OpenBLAS on Debian), at 1 and 2 threads, in GFLOP/s. It bounds
 * what our kernels can reach: every convolution of the step and of its gradients is one of these
 * products plus data movement, so a tfjs step cannot take less than its products at tfjs's GEMM
 * speed, whatever the kernels around them do.
 *
 * Each thread count runs in a child process (wasm threads are fixed when the backend starts),
 * which also times the tfjs DCGAN step to give the share of the step these products take.
 * Ends with whether this Node can run relaxed SIMD (fused multiply-add) and whether the
 * tfjs-backend-wasm binaries use it.
 *
 * The load averages at start are printed: on a shared machine, a busy second core makes the
 * 2-thread figures no better than the 1-thread ones.
 *
 * Options: --threads 1,2 (thread counts), --reps N (timed repetitions, default 9), --no-numpy.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/gan/engine.js';
import { BenchDcgan, batchSize } from './dcgan.js';

/** One product [m x k] · [k x n] and how often the bench step computes it. */
interface Product {
  m: number;
  k: number;
  n: number;
  perStep: number;
  what: string;
}

/**
 * The step's products, as our kernels and XNNPACK lay them out (batch 64; 5x5 filters, stride 2):
 * a convolution is [pixels x taps] · [taps x channels], its input gradient [pixels x out] ·
 * [out x taps] and its filter gradient [taps x pixels] · [pixels x out]. The call counts are those
 * of the bench's kernel profile: G's transposed convolutions are input gradients, and a D update
 * runs D on the real and the fake batch.
 */
const stepProducts: Product[] = [
  { m: 3136, k: 1600, n: 128, perStep: 4, what: 'conv 14x14x64 -> 7x7x128 (D forward, G grad)' },
  { m: 3136, k: 128, n: 1600, perStep: 5, what: 'its input gradient (G up1 forward, D grad)' },
  { m: 1600, k: 3136, n: 128, perStep: 3, what: 'its filter gradient' },
  { m: 12544, k: 25, n: 64, perStep: 4, what: 'conv 28x28x1 -> 14x14x64 (D forward, G grad)' },
  { m: 12544, k: 64, n: 25, perStep: 3, what: 'its input gradient (G up2 forward, D grad)' },
  { m: 25, k: 12544, n: 64, perStep: 3, what: 'its filter gradient' },
  { m: 64, k: 100, n: 6272, perStep: 2, what: 'G dense 100 -> 7x7x128' },
  { m: 100, k: 64, n: 6272, perStep: 1, what: 'its weight gradient' },
];

interface TfjsResult {
  threads: number;
  detail: string;
  productMs: number[];
  stepMs: number;
}

interface NumpyResult {
  threads: number;
  numpy?: string;
  blas?: string;
  products?: { median_ms: number }[];
  error?: string;
}

interface Options {
  threads: number[];
  reps: number;
  numpy: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    threads: (value('--threads') ?? '1,2').split(',').map(Number),
    reps: Number(value('--reps') ?? 9),
    numpy: !argv.includes('--no-numpy'),
  };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const gflop = (p: Product) => (2 * p.m * p.k * p.n) / 1e9;

/**
 * Median ms of tf.matMul on the current backend, which computes synchronously. Each call gets a
 * right-hand operand it has not seen: the wasm backend keeps XNNPACK's packed copy of it until it
 * is disposed, and in training every product meets new values (weights change each step, and a
 * gradient's operands are activations), so the packing is part of the cost, as it is in numpy.
 */
function timeMatMul(p: Product, reps: number): number {
  const a = tf.randomUniform([p.m, p.k], -1, 1, 'float32', 1);
  const bs = Array.from({ length: reps + 2 }, (_, i) =>
    tf.randomUniform([p.k, p.n], -1, 1, 'float32', 2 + i),
  );
  const times: number[] = [];
  bs.forEach((b, i) => {
    const start = performance.now();
    const c = tf.matMul(a, b);
    if (i >= 2) times.push(performance.now() - start);
    c.dispose();
  });
  tf.dispose([a, ...bs]);
  return median(times);
}

/** The child's work: products and DCGAN steps on the wasm engine with `threads` threads. */
async function measureTfjs(threads: number, reps: number): Promise<TfjsResult> {
  const engine = await initEngine('wasm', undefined, { wasmThreads: threads });
  const productMs = stepProducts.map((p) => timeMatMul(p, reps));
  const model = new BenchDcgan();
  const real = tf.randomUniform([batchSize, 28, 28, 1], -1, 1, 'float32', 7) as tf.Tensor4D;
  const steps: number[] = [];
  for (let i = 0; i < 7; i++) {
    const start = performance.now();
    model.step(real);
    if (i >= 2) steps.push(performance.now() - start);
  }
  tf.dispose(real);
  const used = Number(/(\d+) threads?/.exec(engine.detail)?.[1] ?? '1');
  return { threads: used, detail: engine.detail, productMs, stepMs: median(steps) };
}

function runTfjsChild(threads: number, reps: number): TfjsResult {
  const self = fileURLToPath(import.meta.url);
  const args = [...process.execArgv, self, '--child', '--threads', `${threads}`, '--reps'];
  const run = spawnSync(process.execPath, [...args, `${reps}`], { encoding: 'utf8' });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as TfjsResult;
  } catch {
    throw new Error(`tfjs child (${threads} threads) failed: ${run.stderr.trim()}`);
  }
}

function runNumpy(threads: number, reps: number): NumpyResult {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'gemm_numpy.py');
  const shapes = stepProducts.map((p) => `${p.m},${p.k},${p.n}`);
  const run = spawnSync(
    '/usr/bin/python3',
    [script, '--threads', `${threads}`, '--reps', `${reps}`, ...shapes],
    { encoding: 'utf8' },
  );
  if (run.error) return { threads, error: `cannot run /usr/bin/python3: ${run.error.message}` };
  try {
    return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as NumpyResult;
  } catch {
    return { threads, error: `numpy bench failed: ${run.stderr.trim().split('\n').pop()}` };
  }
}

function report(tfjs: TfjsResult, numpy: NumpyResult | undefined): void {
  const blas = numpy?.products ? `numpy ${numpy.numpy} (${numpy.blas})` : 'numpy';
  console.log(`\n### ${tfjs.threads} thread${tfjs.threads > 1 ? 's' : ''}: ${tfjs.detail}\n`);
  console.log(`| M x K x N | in the step | per step | tfjs ms | GFLOP/s | ${blas} ms | GFLOP/s |`);
  console.log('|---|---|---:|---:|---:|---:|---:|');
  let tfjsTotal = 0;
  let numpyTotal = 0;
  stepProducts.forEach((p, i) => {
    const ms = tfjs.productMs[i];
    const native = numpy?.products?.[i]?.median_ms;
    tfjsTotal += p.perStep * ms;
    numpyTotal += p.perStep * (native ?? NaN);
    const rate = (t: number) => (gflop(p) / (t / 1000)).toFixed(1);
    const nativeCells =
      native === undefined ? 'n/a | n/a' : `${native.toFixed(2)} | ${rate(native)}`;
    console.log(
      `| ${p.m} x ${p.k} x ${p.n} | ${p.what} | ${p.perStep} | ${ms.toFixed(2)} | ${rate(ms)} | ` +
        `${nativeCells} |`,
    );
  });
  const work = stepProducts.reduce((sum, p) => sum + p.perStep * gflop(p), 0);
  const share = ((100 * tfjsTotal) / tfjs.stepMs).toFixed(0);
  console.log(
    `\nPer step: ${work.toFixed(2)} GFLOP in these products; ${tfjsTotal.toFixed(0)} ms in tfjs ` +
      `(${(work / (tfjsTotal / 1000)).toFixed(1)} GFLOP/s)` +
      (numpy?.products
        ? `, ${numpyTotal.toFixed(0)} ms in numpy (${(work / (numpyTotal / 1000)).toFixed(1)} ` +
          `GFLOP/s): tfjs/numpy ${(tfjsTotal / numpyTotal).toFixed(2)}x.`
        : '.'),
  );
  console.log(
    `tfjs DCGAN step in the same process: ${tfjs.stepMs.toFixed(0)} ms median; the products ` +
      `alone at tfjs's GEMM speed are ${share}% of it, and a floor for any kernel rewrite.`,
  );
}

/** Whether these bytes compile as a WebAssembly module in this process. */
function compiles(bytes: Uint8Array): boolean {
  try {
    new WebAssembly.Module(bytes);
    return true;
  } catch {
    return false;
  }
}

/** f32x4.relaxed_madd in a one-function module: compiles only where relaxed SIMD is enabled. */
const relaxedMaddModule = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1, 0x7b, 3, 2, 1, 0, 10, 13, 1,
  11, 0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfd, 0x85, 0x02, 0x0b,
]);

/**
 * Relaxed SIMD (Wasm 3.0) adds fused multiply-add, which XNNPACK's wasm GEMM kernels can use.
 * With it disabled, a binary that still compiles holds no relaxed SIMD instruction.
 */
function relaxedSimdFacts(): void {
  const enabled = compiles(relaxedMaddModule);
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  console.log(
    `\nNode ${process.version}: wasm relaxed SIMD ${enabled ? 'enabled' : 'disabled'} in this ` +
      'process (Node 20 enables it only with --experimental-wasm-relaxed-simd).',
  );
  if (enabled) return;
  for (const file of readdirSync(dist).filter((f) => f.endsWith('.wasm'))) {
    const valid = compiles(readFileSync(path.join(dist, file)));
    console.log(
      `${file}: ${valid ? 'compiles without relaxed SIMD, so it uses none' : 'does not compile'}`,
    );
  }
}

export async function benchGemm(argv: string[] = process.argv.slice(2)): Promise<void> {
  const options = parseOptions(argv);
  console.log(`Matrix products of one DCGAN step (batch ${batchSize}), medians of ${options.reps}`);
  const load = os.loadavg().map((l) => l.toFixed(2));
  console.log(`load average (1, 5, 15 min) at start: ${load.join(', ')}`);
  for (const threads of options.threads) {
    const tfjs = runTfjsChild(threads, options.reps);
    report(tfjs, options.numpy ? runNumpy(threads, options.reps) : undefined);
  }
  relaxedSimdFacts();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const argv = process.argv.slice(2);
  if (argv.includes('--child')) {
    const options = parseOptions(argv);
    console.log(JSON.stringify(await measureTfjs(options.threads[0], options.reps)));
  } else {
    await benchGemm(argv);
  }
}
