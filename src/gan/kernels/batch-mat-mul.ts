/**
 * BatchMatMul for wasm with transposed operands: the stock kernel runs those through a slow
 * generic loop (~10x the plain path), and dense-layer gradients always ask for one
 * (dx = dy·wᵀ, dw = xᵀ·dy). Transposing the operand first and taking the XNNPACK path is exact
 * and much faster; plain products go straight to the stock kernel.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { WasmOps, baseKernelSetup } from './wasm-ops.js';

/** Swaps the last two axes. */
function swapInner(ops: WasmOps, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return ops.transpose(x, perm);
}

const batchMatMul: KernelFunc = ({ inputs, backend, attrs }) => {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  const ops = new WasmOps(backend);
  const out = ops.matMul(transposeA ? swapInner(ops, a) : a, transposeB ? swapInner(ops, b) : b);
  ops.dispose(out);
  return out;
};

export const batchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: batchMatMul,
  setupFunc: baseKernelSetup('BatchMatMul'),
};
