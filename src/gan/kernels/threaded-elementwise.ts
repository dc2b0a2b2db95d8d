/**
 * Elementwise kernels for the multi-threaded wasm build. There the stock kernels that go through
 * XNNPACK's thread pool (unary ops, and binary ops whose operands differ in shape) wait ~1 ms per
 * call for the pool's threads to wake, ten times the work on a 64x14x14x64 activation: a
 * per-channel product takes 1.6 ms and a Square 0.7 ms, where a same-shape product (which does
 * not use the pool) takes 0.13 ms. Here a per-channel or other leading-axes broadcast is tiled up
 * to the full shape first (tile.ts: a few memmoves), and Square is x * x; the values are the same.
 * With one thread the stock kernels are as fast and are used unchanged.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { tileTensor } from './tile.js';
import { WasmOps, baseKernelSetup } from './wasm-ops.js';

type BinaryName = 'Add' | 'Sub' | 'Multiply';

/** The repetitions that broadcast `small` to `shape` (trailing axes aligned), if it can. */
function broadcastReps(small: TensorInfo, shape: number[]): number[] | undefined {
  const padded = [...new Array<number>(shape.length - small.shape.length).fill(1), ...small.shape];
  if (padded.length !== shape.length) return undefined;
  if (padded.some((d, i) => d !== 1 && d !== shape[i])) return undefined;
  return padded.map((d, i) => shape[i] / d);
}

/**
 * a (op) b with the stock kernel, a leading-axes broadcast of the smaller operand tiled to the
 * full shape first when the build is multi-threaded. The result is one of `ops`' tensors.
 */
export function elementwise(
  ops: WasmOps,
  name: BinaryName,
  a: TensorInfo,
  b: TensorInfo,
): TensorInfo {
  const size = (t: TensorInfo) => t.shape.reduce((n, d) => n * d, 1);
  const [big, small] = size(a) >= size(b) ? [a, b] : [b, a];
  const reps =
    getThreadsCount() > 1 && a.dtype === 'float32' && b.dtype === 'float32' && size(small) > 1
      ? broadcastReps(small, big.shape)
      : undefined;
  if (!reps || size(small) === size(big)) return ops.run(name, { a, b }, {});

  const padded = big.shape.map((d, i) => d / reps[i]);
  const full = tileTensor(ops, ops.reshape(small, padded), reps);
  return ops.run(name, small === b ? { a, b: full } : { a: full, b }, {});
}

function binary(name: BinaryName): KernelFunc {
  return ({ inputs, backend }) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const ops = new WasmOps(backend);
    const out = elementwise(ops, name, a, b);
    ops.dispose(out);
    return out;
  };
}

const square: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  const ops = new WasmOps(backend);
  if (getThreadsCount() === 1 || x.dtype !== 'float32') return ops.run('Square', { x }, {});
  return ops.run('Multiply', { a: x, b: x }, {});
};

const config = (kernelName: BinaryName | 'Square', kernelFunc: KernelFunc): KernelConfig => ({
  kernelName,
  backendName: 'wasm',
  kernelFunc,
  setupFunc: baseKernelSetup(kernelName),
});

export const addConfig = config('Add', binary('Add'));
export const subConfig = config('Sub', binary('Sub'));
export const multiplyConfig = config('Multiply', binary('Multiply'));
export const squareConfig = config('Square', square);
