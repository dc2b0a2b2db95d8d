/**
 * Identity for wasm without the copy. tfjs runs Identity (via its internal clone) for every
 * tensor it saves on the gradient tape, and the stock wasm kernel copies the whole buffer each
 * time: 27 activation-sized copies per DCGAN step. No wasm kernel writes into its inputs, so the
 * output can share the input's buffer and bump its reference count, as the cpu backend does.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmOps } from './wasm-ops.js';

const identity: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  if (x.dtype === 'string') return new WasmOps(backend).run('Identity', { x }, {});
  (backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

export const identityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: identity,
};
