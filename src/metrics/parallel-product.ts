/**
 * Runs the transposed-product kernel on one or more threads. Each thread owns a band of C's
 * columns, so they write disjoint parts of one shared result and need no locking.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { compileBlockKernel } from './simd-kernels.js';
import { accumulateTransposedProduct, type ProductJob } from './transposed-product.js';

export interface ProductOperand {
  /** rows x cols, row-major. */
  data: Float64Array;
  cols: number;
  /** Subtracted from every row first; null for none. */
  mean: Float64Array | null;
}

/**
 * Below this many multiply-adds a product runs on the calling thread: starting workers and
 * copying the operands into shared memory costs more than it saves.
 */
const parallelThreshold = 2e8;

/** Threads for a product of this size: 1 for small ones, else every core. */
function defaultThreads(multiplyAdds: number): number {
  return multiplyAdds < parallelThreshold ? 1 : Math.max(1, os.availableParallelism());
}

let compiledKernel: WebAssembly.Module | null = null;

function blockKernel(): WebAssembly.Module {
  compiledKernel ??= compileBlockKernel();
  return compiledKernel;
}

const workerSource = `
const { parentPort } = require('node:worker_threads');
const accumulateTransposedProduct = ${accumulateTransposedProduct.toString()};
parentPort.once('message', (job) => {
  accumulateTransposedProduct(job);
  parentPort.postMessage('done');
});
`;

export interface ProductOptions {
  threads?: number;
}

/**
 * (A - 1 meanA^T)^T (B - 1 meanB^T) as an aCols x bCols row-major matrix, with B = A when `b` is
 * null. The rows of A and B are the summed dimension.
 */
export async function transposedProduct(
  rows: number,
  a: ProductOperand,
  b: ProductOperand | null,
  options: ProductOptions = {},
): Promise<Float64Array> {
  const other = b ?? a;
  const threads = options.threads ?? defaultThreads(rows * a.cols * other.cols);
  const panels = Math.ceil(other.cols / 4);
  const bands = columnBands(panels, Math.min(threads, panels), b === null);
  if (bands.length === 1) return transposedProductOnThisThread(rows, a, b);

  const shared = (x: ProductOperand) => ({
    ...x,
    data: toShared(x.data),
    mean: x.mean && toShared(x.mean),
  });
  const sa = shared(a);
  const sb = b === null ? null : shared(b);
  const padded = new Float64Array(new SharedArrayBuffer(paddedSize(a, other) * 8));
  await Promise.all(
    bands.map((band) => runInWorker(productJob(rows, sa, sb, other.cols, band, padded))),
  );
  return unpad(padded, panels * 4, a.cols, other.cols, b === null);
}

/** The same product on the calling thread, for small products inside a larger computation. */
export function transposedProductOnThisThread(
  rows: number,
  a: ProductOperand,
  b: ProductOperand | null,
): Float64Array {
  const other = b ?? a;
  const panels = Math.ceil(other.cols / 4);
  const padded = new Float64Array(paddedSize(a, other));
  accumulateTransposedProduct(productJob(rows, a, b, other.cols, [0, panels], padded));
  return unpad(padded, panels * 4, a.cols, other.cols, b === null);
}

function paddedSize(a: ProductOperand, b: ProductOperand): number {
  return Math.ceil(a.cols / 4) * 4 * Math.ceil(b.cols / 4) * 4;
}

function productJob(
  rows: number,
  a: ProductOperand,
  b: ProductOperand | null,
  bCols: number,
  band: number[],
  out: Float64Array,
): ProductJob {
  return {
    a: a.data,
    aCols: a.cols,
    aMean: a.mean,
    b: b === null ? null : b.data,
    bCols,
    bMean: b === null ? a.mean : b.mean,
    rows,
    panelStart: band[0],
    panelEnd: band[1],
    out,
    kernel: blockKernel(),
  };
}

/**
 * Splits the column panels into `count` bands of equal work. In the symmetric case panel j
 * costs j + 1 blocks, so the cumulative work grows as j^2 and the k-th boundary sits at
 * panels * sqrt(k / count).
 */
export function columnBands(panels: number, count: number, symmetric: boolean): number[][] {
  const bounds = [0];
  for (let k = 1; k < count; k++) {
    const share = symmetric ? Math.sqrt(k / count) : k / count;
    bounds.push(Math.max(bounds[k - 1], Math.round(panels * share)));
  }
  bounds.push(panels);
  const bands: number[][] = [];
  for (let k = 0; k < count; k++) {
    if (bounds[k + 1] > bounds[k]) bands.push([bounds[k], bounds[k + 1]]);
  }
  return bands;
}

function toShared(x: Float64Array): Float64Array {
  if (x.buffer instanceof SharedArrayBuffer) return x;
  const copy = new Float64Array(new SharedArrayBuffer(x.byteLength));
  copy.set(x);
  return copy;
}

function runInWorker(product: ProductJob): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerSource, { eval: true });
    worker.once('message', () => {
      resolve();
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`product worker exited with code ${code}`));
    });
    worker.postMessage(product);
  });
}

function unpad(
  padded: Float64Array,
  paddedCols: number,
  rows: number,
  cols: number,
  symmetric: boolean,
): Float64Array {
  const result = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      result[i * cols + j] =
        symmetric && j < i ? padded[j * paddedCols + i] : padded[i * paddedCols + j];
    }
  }
  return result;
}
