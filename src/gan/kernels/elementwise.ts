/**
 * LeakyRelu and Greater-than-a-scalar for wasm. The stock kernels are scalar loops that branch
 * on every element (activations have random signs, so half the branches mispredict): ~4 ms each
 * on a 64x14x14x64 activation, where Relu or a multiply take ~0.3 ms. Every D layer pays for
 * both: tfjs's LeakyRelu gradient is where(x > 0, dy, alpha * dy).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmOps, baseKernelSetup } from './wasm-ops.js';

/**
 * y = x * step(x, alpha), where Step is 1 above zero and alpha elsewhere: two vectorised passes
 * (0.25 ms on a 64x14x14x64 activation with one thread, 0.31 ms with two). Exact: x * 1 above
 * zero, the stock kernel's alpha * x elsewhere. An earlier relu(x) + alpha * (x - relu(x)) took
 * 0.37 ms, and 1.2 ms on the multi-threaded build, whose Relu waits for the thread pool.
 */
const leakyRelu: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const { alpha } = attrs as { alpha: number };
  const ops = new WasmOps(backend);
  if (x.dtype !== 'float32') return ops.run('LeakyRelu', { x }, { alpha });
  const slope = ops.run('Step', { x }, { alpha });
  const out = ops.run('Multiply', { a: x, b: slope }, {});
  ops.dispose(out);
  return out;
};

/** a > b for float32 a and a single-value b: a comparison V8 compiles without a branch. */
const greater: KernelFunc = ({ inputs, backend }) => {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const single = b.shape.every((d) => d === 1) && b.shape.length <= a.shape.length;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !single) {
    return new WasmOps(backend).run('Greater', { a, b }, {});
  }
  const wasm = backend as BackendWasm;
  const out = wasm.makeOutput(a.shape, 'bool');
  const values = wasm.typedArrayFromHeap(a) as Float32Array;
  const threshold = (wasm.typedArrayFromHeap(b) as Float32Array)[0];
  const result = wasm.typedArrayFromHeap(out) as Uint8Array;
  for (let i = 0; i < values.length; i++) result[i] = +(values[i] > threshold);
  return out;
};

export const leakyReluConfig: KernelConfig = {
  kernelName: 'LeakyRelu',
  backendName: 'wasm',
  kernelFunc: leakyRelu,
  setupFunc: baseKernelSetup('LeakyRelu'),
};

export const greaterConfig: KernelConfig = {
  kernelName: 'Greater',
  backendName: 'wasm',
  kernelFunc: greater,
  setupFunc: baseKernelSetup('Greater'),
};
