/**
 * The kernels ganforge adds to or replaces in tfjs-backend-wasm: the convolution gradients it
 * lacks or runs slowly, matmul with transposed operands, Tile, Identity, LeakyRelu, Greater, Sum
 * and Mean over leading axes, batch normalization with per-channel statistics, and the
 * elementwise kernels the multi-threaded build runs slowly.
 * Registered for 'wasm' only; the other backends keep their own.
 */
import * as tf from '@tensorflow/tfjs';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { fusedBatchNormConfig } from './batch-norm.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { greaterConfig, leakyReluConfig } from './elementwise.js';
import { identityConfig } from './identity.js';
import { meanConfig, sumConfig } from './reductions.js';
import { addConfig, multiplyConfig, squareConfig, subConfig } from './threaded-elementwise.js';
import { tileConfig } from './tile.js';
import { captureBaseKernels } from './wasm-ops.js';

export const wasmKernelConfigs = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  batchMatMulConfig,
  tileConfig,
  identityConfig,
  leakyReluConfig,
  greaterConfig,
  sumConfig,
  meanConfig,
  fusedBatchNormConfig,
  addConfig,
  subConfig,
  multiplyConfig,
  squareConfig,
] as const;

/** Idempotent: replaces whatever is registered under our kernels' names for 'wasm'. */
export function registerWasmKernels(): void {
  captureBaseKernels();
  for (const config of wasmKernelConfigs) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}

/** True when every one of our kernels is the one registered for 'wasm'. */
export function wasmKernelsRegistered(): boolean {
  return wasmKernelConfigs.every(
    (config) => tf.getKernel(config.kernelName, 'wasm')?.kernelFunc === config.kernelFunc,
  );
}
