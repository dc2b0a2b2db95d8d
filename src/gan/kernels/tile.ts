/**
 * Tile for wasm: the stock kernel walks every output element through a generic index loop
 * (~70x a concat), and batch-norm and broadcasting gradients tile per-channel vectors up to whole
 * activation maps. Here each axis writes one copy of its block and then doubles it with
 * copyWithin, so the work is a few memmoves regardless of the output size.
 */
import type { KernelConfig, KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs';
import { WasmOps, baseKernelSetup } from './wasm-ops.js';

/** Row-major strides of `shape`, in elements. */
function stridesOf(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let size = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = size;
    size *= shape[axis];
  }
  return strides;
}

function tileInto(x: TypedArray, shape: number[], reps: number[], out: TypedArray): void {
  const outShape = shape.map((d, i) => d * reps[i]);
  const xStrides = stridesOf(shape);
  const outStrides = stridesOf(outShape);

  const fill = (axis: number, src: number, dst: number) => {
    const block = outStrides[axis];
    if (axis === shape.length - 1) {
      out.set(x.subarray(src, src + shape[axis]), dst);
    } else {
      for (let i = 0; i < shape[axis]; i++)
        fill(axis + 1, src + i * xStrides[axis], dst + i * block);
    }
    const once = shape[axis] * block;
    const total = once * reps[axis];
    for (let done = once; done < total; done += Math.min(done, total - done)) {
      out.copyWithin(dst + done, dst, dst + Math.min(done, total - done));
    }
  };
  if (shape.length === 0) out.set(x);
  else fill(0, 0, 0);
}

/** x repeated `reps` times along each axis, as a new tensor of `ops` (numeric dtypes). */
export function tileTensor(ops: WasmOps, x: TensorInfo, reps: number[]): TensorInfo {
  const outShape = x.shape.map((d, i) => d * reps[i]);
  return ops.makeTyped(outShape, x.dtype, (values) => {
    if (values.length > 0) tileInto(ops.typedValues(x), x.shape, reps, values);
  });
}

const tile: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const { reps } = attrs as { reps: number[] };
  const ops = new WasmOps(backend);
  if (x.dtype === 'string') {
    return ops.run('Tile', { x }, { reps });
  }
  return tileTensor(ops, x, reps);
};

export const tileConfig: KernelConfig = {
  kernelName: 'Tile',
  backendName: 'wasm',
  kernelFunc: tile,
  setupFunc: baseKernelSetup('Tile'),
};
