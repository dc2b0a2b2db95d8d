/**
 * `npm run bench:fid`: FID of two 10,000 x 2,048 float64 feature sets (the size of Inception
 * pool features for a usual evaluation) with ganforge's metrics, next to the same computation in
 * numpy/scipy on this machine (bench/fid_scipy.py through /usr/bin/python3), and the time ratio.
 * The features are seeded and shaped like pooled activations: a rectified low-rank signal plus
 * noise, so the covariances are full rank but ill-conditioned.
 *
 * Options: --rows N (default 10000), --dims N (default 2048), --threads N (default: all cores),
 * --no-scipy.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FeatureMatrix } from '../src/metrics/feature-matrix.js';
import { encodeNpy } from '../src/metrics/feature-files.js';
import { frechetDistance } from '../src/metrics/frechet-distance.js';
import { transposedProduct } from '../src/metrics/parallel-product.js';
import { seededUniform } from '../src/metrics/random-subsets.js';

interface ScipyResult {
  numpy?: string;
  scipy?: string;
  covariance_seconds?: number;
  eigh?: { fid: number; seconds: number };
  sqrtm?: { fid: number; seconds: number; max_imag: number };
  error?: string;
}

/** Dimension of the low-rank signal inside the features. */
const latentDims = 64;

function normals(count: number, seed: number): Float64Array {
  const uniform = seededUniform(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  }
  return out;
}

/** relu(z W + shift) + 0.1 noise, with z (rows x 64) and W (64 x dims) seeded normals. */
async function structuredFeatures(
  rows: number,
  dims: number,
  seed: number,
  shift: number,
): Promise<FeatureMatrix> {
  const latentT = normals(latentDims * rows, seed);
  const mixing = normals(latentDims * dims, 1000);
  const signal = await transposedProduct(
    latentDims,
    { data: latentT, cols: rows, mean: null },
    { data: mixing, cols: dims, mean: null },
  );
  const noise = normals(rows * dims, seed + 1);
  const data = signal.map((v, i) => Math.max(v / 8 + shift, 0) + 0.1 * noise[i]);
  return { rows, cols: dims, data };
}

function runScipy(aPath: string, bPath: string): ScipyResult {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fid_scipy.py');
  const run = spawnSync('/usr/bin/python3', [script, aPath, bPath], { encoding: 'utf8' });
  if (run.error) return { error: `cannot run /usr/bin/python3: ${run.error.message}` };
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ScipyResult;
  } catch {
    return { error: `scipy bench failed: ${run.stderr.trim().split('\n').pop()}` };
  }
}

export async function benchFid(argv: string[] = process.argv.slice(2)): Promise<void> {
  const value = (flag: string, fallback: number) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const rows = value('--rows', 10_000);
  const dims = value('--dims', 2048);
  const threads = value('--threads', os.availableParallelism());
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`FID of two ${rows} x ${dims} float64 feature sets; ${os.cpus().length} x ${cpu}`);

  const a = await structuredFeatures(rows, dims, 1, 0);
  const b = await structuredFeatures(rows, dims, 2, 0.05);
  const start = performance.now();
  const ours = await frechetDistance(a, b, { threads });
  const oursSeconds = (performance.now() - start) / 1000;

  let scipy: ScipyResult | null = null;
  if (!argv.includes('--no-scipy')) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ganforge-bench-fid-'));
    try {
      const [aPath, bPath] = [path.join(dir, 'a.npy'), path.join(dir, 'b.npy')];
      await writeFile(aPath, encodeNpy(a));
      await writeFile(bPath, encodeNpy(b));
      scipy = runScipy(aPath, bPath);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  console.log('\n| implementation | FID | seconds | ganforge / this |');
  console.log('|---|---:|---:|---:|');
  const row = (name: string, fid: number, seconds: number) => {
    const ratio = (oursSeconds / seconds).toFixed(2);
    console.log(`| ${name} | ${fid.toFixed(9)} | ${seconds.toFixed(2)} | ${ratio}x |`);
  };
  row(`ganforge (${threads} thread${threads === 1 ? '' : 's'})`, ours.fid, oursSeconds);
  if (scipy?.eigh && scipy.sqrtm) {
    const versions = `numpy ${scipy.numpy}, scipy ${scipy.scipy}`;
    row(`numpy eigh, symmetric form (${versions})`, scipy.eigh.fid, scipy.eigh.seconds);
    row(`scipy.linalg.sqrtm(S1 S2) (${versions})`, scipy.sqrtm.fid, scipy.sqrtm.seconds);
    const relative = Math.abs(ours.fid - scipy.eigh.fid) / Math.abs(scipy.eigh.fid);
    console.log(
      `\nganforge vs numpy eigh: relative difference ${relative.toExponential(2)} ` +
        `(${relative <= 1e-6 ? 'agree' : 'DISAGREE'} at 1e-6); sqrtm's largest imaginary part ` +
        `${scipy.sqrtm.max_imag.toExponential(2)}; numpy covariances took ` +
        `${scipy.covariance_seconds?.toFixed(2)} s of each numpy time`,
    );
  } else if (scipy?.error) {
    console.log(`\nnumpy/scipy not measured: ${scipy.error}`);
    console.log('To compare, install them: apt-get install -y python3-numpy python3-scipy');
  }
  for (const warning of ours.warnings) console.log(`warning: ${warning}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await benchFid();
}
