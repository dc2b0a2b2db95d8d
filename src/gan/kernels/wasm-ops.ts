/**
 * Our wasm kernels are compositions of the backend's own fast kernels (XNNPACK convolution and
 * matmul, transpose, pad). They call those kernel functions directly on TensorInfos instead of
 * going through tf ops, so nothing lands on the gradient tape or in a tidy scope; `WasmOps`
 * records every intermediate it makes and frees them all in `dispose`.
 */
import * as tf from '@tensorflow/tfjs';
import type {
  DataType,
  KernelConfig,
  NamedAttrMap,
  TensorInfo,
  TypedArray,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type Shape4 = [number, number, number, number];

/** The stock wasm kernels we build on, captured before any of ours replaces one of them. */
const baseKernelNames = [
  'Add',
  'AvgPool',
  'BatchMatMul',
  'Concat',
  'Conv2D',
  'Fill',
  'FusedBatchNorm',
  'Greater',
  'Identity',
  'LeakyRelu',
  'Mean',
  'Multiply',
  'PadV2',
  'Relu',
  'Reshape',
  'Reverse',
  'Slice',
  'Square',
  'Step',
  'Sub',
  'Sum',
  'Tile',
  'Transpose',
] as const;

type BaseKernelName = (typeof baseKernelNames)[number];

let baseKernels: Map<BaseKernelName, KernelConfig> | undefined;

/** Must run before our kernels are registered (BatchMatMul is replaced by one that wraps it). */
export function captureBaseKernels(): void {
  if (baseKernels) return;
  baseKernels = new Map(baseKernelNames.map((name) => [name, tf.getKernel(name, 'wasm')] as const));
}

/**
 * The stock kernel's setup (it binds the C++ function), for a kernel of ours that replaces it:
 * the backend runs the setup of whichever kernel is registered when it initializes.
 */
export function baseKernelSetup(name: BaseKernelName): KernelConfig['setupFunc'] {
  return (backend) => baseKernels?.get(name)?.setupFunc?.(backend);
}

export class WasmOps {
  private readonly made: TensorInfo[] = [];
  private readonly backend: BackendWasm;

  /** `backend` is what a kernel function receives, typed `{}` by tfjs: the wasm backend. */
  constructor(backend: object) {
    this.backend = backend as BackendWasm;
  }

  /** Frees one intermediate now, to bound the heap when a kernel works in chunks. */
  release(t: TensorInfo): void {
    const i = this.made.indexOf(t);
    if (i >= 0) this.made.splice(i, 1);
    this.backend.disposeData(t.dataId);
  }

  /** Frees every intermediate except `keep` (the kernel's output). */
  dispose(keep?: TensorInfo): void {
    for (const t of this.made) if (t !== keep) this.backend.disposeData(t.dataId);
    this.made.length = 0;
  }

  run(name: BaseKernelName, inputs: TensorInfo[] | object, attrs: object): TensorInfo {
    const kernel = baseKernels?.get(name)?.kernelFunc;
    if (!kernel) throw new Error(`wasm kernel ${name} was not captured`);
    const out = kernel({
      inputs: inputs as Record<string, TensorInfo>,
      attrs: attrs as NamedAttrMap,
      backend: this.backend,
    }) as TensorInfo;
    this.made.push(out);
    return out;
  }

  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    pad: 'valid' | [[number, number], [number, number], [number, number], [number, number]],
    dilations: [number, number] = [1, 1],
  ): TensorInfo {
    return this.run(
      'Conv2D',
      { x, filter },
      { strides: [1, 1], pad, dilations, dataFormat: 'NHWC', dimRoundingMode: undefined },
    );
  }

  matMul(a: TensorInfo, b: TensorInfo): TensorInfo {
    return this.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  /** Zero padding; `paddings[i]` = [before, after] for axis i. */
  pad(x: TensorInfo, paddings: [number, number][]): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  concat(xs: TensorInfo[], axis: number): TensorInfo {
    return this.run('Concat', xs, { axis });
  }

  /** A new float32 tensor whose values `write` fills in place (for small or gather-like work). */
  make(shape: number[], write: (values: Float32Array) => void): TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32');
    this.made.push(out);
    write(this.values(out));
    return out;
  }

  /** A new tensor of any numeric dtype, filled in place by `write`. */
  makeTyped(shape: number[], dtype: DataType, write: (values: TypedArray) => void): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype);
    this.made.push(out);
    write(this.backend.typedArrayFromHeap(out));
    return out;
  }

  /** The tensor's values as a view of the wasm heap; valid until the next allocation. */
  values(t: TensorInfo): Float32Array {
    return this.backend.typedArrayFromHeap(t) as Float32Array;
  }

  /**
   * The whole wasm heap as float32, with `offset` giving where a tensor starts in it: copies
   * between tensors then need no view per copy (copyWithin). Valid until the next allocation.
   */
  heap(): Float32Array {
    return new Float32Array(this.backend.wasm.HEAPU8.buffer);
  }

  offset(t: TensorInfo): number {
    return this.backend.getMemoryOffset(t.dataId) / Float32Array.BYTES_PER_ELEMENT;
  }

  typedValues(t: TensorInfo): TypedArray {
    return this.backend.typedArrayFromHeap(t);
  }

  zeros(shape: number[]): TensorInfo {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }
}

/**
 * Crops or zero-pads one spatial axis so it runs from `start` (may be negative: zeros before the
 * data) for `length` entries. Returns the slice begin/size and the padding still to apply.
 */
export function window1d(
  size: number,
  start: number,
  length: number,
): { begin: number; keep: number; before: number; after: number } {
  const begin = Math.max(0, start);
  const end = Math.min(size, start + length);
  const keep = Math.max(0, end - begin);
  const before = Math.min(length, Math.max(0, -start));
  return { begin, keep, before, after: length - before - keep };
}
