/**
 * Conv2DBackpropInput for wasm (the stock kernel is a naive loop, ~9x a forward convolution).
 * It is the input gradient of conv2d and the forward pass of conv2dTranspose.
 *
 * With stride s, dx[h'] (h' = h + padTop) = sum_{p, i : s*p + i = h'} dy[p] * w[i]. Split h' by
 * its phase r = h' mod s, h' = s*m + r: only taps i = r + s*t reach that phase, and
 *   dx_r[m] = sum_t dy[m - t] * w[r + s*t],
 * a stride-1 convolution of dy with the reversed, sub-sampled filter (the "sub-pixel" view of a
 * transposed convolution, Shi et al. 2016, "Is the deconvolution layer the same as a
 * convolutional layer?"). The phases are then interleaved by a 6-D transpose.
 *
 * Two ways to run the phases, both exact:
 * - one convolution per phase (s*s of them), each with only its own taps: no wasted
 *   multiply-adds, good when dx has many channels;
 * - one convolution whose output channels are all phases at once, taps padded with zeros to
 *   ceil(k/s): more multiply-adds but one wide GEMM, far better when dx has few channels (XNNPACK
 *   is slow with one output channel, e.g. a generator's last layer).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { WasmOps, window1d, type Shape4 } from './wasm-ops.js';

interface BackpropInputAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: Shape4;
}

/** Below this many dx channels one wide convolution beats s*s narrow ones (measured). */
const minChannelsForPhaseConvs = 16;

/** The geometry of one spatial axis: which phase rows exist and which dy rows feed them. */
interface AxisPlan {
  stride: number;
  /** Taps per phase after zero-padding the filter to a multiple of the stride. */
  taps: number;
  /** First phase row m0 and phase row count m: phase rows m0 .. m0+count-1 cover all of dx. */
  first: number;
  count: number;
  /** Offset of dx row 0 in the interleaved rows. */
  crop: number;
}

function planAxis(size: number, kernel: number, stride: number, padBefore: number): AxisPlan {
  const first = Math.floor(padBefore / stride);
  return {
    stride,
    taps: Math.ceil(kernel / stride),
    first,
    count: Math.ceil((padBefore + size) / stride) - first,
    crop: padBefore - stride * first,
  };
}

/**
 * dy cut and zero-padded so a valid stride-1 convolution with `taps` taps yields phase rows
 * first .. first+count-1: row m reads dy[m - taps + 1 .. m].
 */
function dyWindow(
  ops: WasmOps,
  dy: TensorInfo,
  rowTaps: number,
  colTaps: number,
  h: AxisPlan,
  w: AxisPlan,
) {
  const rows = window1d(dy.shape[1], h.first - rowTaps + 1, h.count + rowTaps - 1);
  const cols = window1d(dy.shape[2], w.first - colTaps + 1, w.count + colTaps - 1);
  if (rows.keep === 0 || cols.keep === 0) return undefined;
  const x =
    rows.keep < dy.shape[1] || cols.keep < dy.shape[2]
      ? ops.slice(dy, [0, rows.begin, cols.begin, 0], [-1, rows.keep, cols.keep, -1])
      : dy;
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [rows.before, rows.after],
    [cols.before, cols.after],
    [0, 0],
  ];
  return { x, pad };
}

/**
 * The filter as [tapsH, sH, tapsW, sW, outChannels(dy), inChannels(dx)] with taps reversed, so
 * index [t, r] holds w[r + s*(taps-1-t)] and zeros past the kernel's end.
 */
function phaseFilter(ops: WasmOps, filter: TensorInfo, h: AxisPlan, w: AxisPlan): TensorInfo {
  const [kh, kw, inChannels, outChannels] = filter.shape;
  let f = ops.transpose(filter, [0, 1, 3, 2]);
  const extraH = h.taps * h.stride - kh;
  const extraW = w.taps * w.stride - kw;
  if (extraH > 0 || extraW > 0) {
    f = ops.pad(f, [
      [0, extraH],
      [0, extraW],
      [0, 0],
      [0, 0],
    ]);
  }
  f = ops.reshape(f, [h.taps, h.stride, w.taps, w.stride, outChannels, inChannels]);
  return ops.reverse(f, [0, 2]);
}

/** [N, countH, sH, countW, sW, C] phase rows -> dx [N, H, W, C]. */
function interleave(ops: WasmOps, phases: TensorInfo, dxShape: Shape4, h: AxisPlan, w: AxisPlan) {
  const [n, height, width, channels] = dxShape;
  const full = ops.reshape(phases, [n, h.count * h.stride, w.count * w.stride, channels]);
  if (
    h.crop === 0 &&
    w.crop === 0 &&
    h.count * h.stride === height &&
    w.count * w.stride === width
  ) {
    return full;
  }
  return ops.slice(full, [0, h.crop, w.crop, 0], dxShape);
}

function allPhasesInOneConv(
  ops: WasmOps,
  dy: TensorInfo,
  filter: TensorInfo,
  dxShape: Shape4,
  h: AxisPlan,
  w: AxisPlan,
) {
  const [n, , , channels] = dxShape;
  const outChannels = filter.shape[3];
  const f = phaseFilter(ops, filter, h, w);
  const wide = ops.reshape(ops.transpose(f, [0, 2, 4, 1, 3, 5]), [
    h.taps,
    w.taps,
    outChannels,
    h.stride * w.stride * channels,
  ]);
  const window = dyWindow(ops, dy, h.taps, w.taps, h, w);
  const y = window
    ? ops.conv2d(window.x, wide, window.pad)
    : ops.zeros([n, h.count, w.count, h.stride * w.stride * channels]);
  const split = ops.reshape(y, [n, h.count, w.count, h.stride, w.stride, channels]);
  return interleave(ops, ops.transpose(split, [0, 1, 3, 2, 4, 5]), dxShape, h, w);
}

function oneConvPerPhase(
  ops: WasmOps,
  dy: TensorInfo,
  filter: TensorInfo,
  dxShape: Shape4,
  h: AxisPlan,
  w: AxisPlan,
) {
  const [n, , , channels] = dxShape;
  const outChannels = filter.shape[3];
  const f = ops.transpose(phaseFilter(ops, filter, h, w), [1, 3, 0, 2, 4, 5]);
  const phases: TensorInfo[] = [];
  for (let rh = 0; rh < h.stride; rh++) {
    const rowTaps = Math.ceil((filter.shape[0] - rh) / h.stride);
    for (let rw = 0; rw < w.stride; rw++) {
      const colTaps = Math.ceil((filter.shape[1] - rw) / w.stride);
      const window =
        rowTaps > 0 && colTaps > 0 ? dyWindow(ops, dy, rowTaps, colTaps, h, w) : undefined;
      if (!window) {
        phases.push(ops.zeros([1, n, h.count, w.count, channels]));
        continue;
      }
      // Reversed taps put the zero padding first: this phase's own taps are the last ones.
      const taps = ops.slice(
        f,
        [rh, rw, h.taps - rowTaps, w.taps - colTaps, 0, 0],
        [1, 1, rowTaps, colTaps, outChannels, channels],
      );
      const tapsFilter = ops.reshape(taps, [rowTaps, colTaps, outChannels, channels]);
      const y = ops.conv2d(window.x, tapsFilter, window.pad);
      phases.push(ops.reshape(y, [1, n, h.count, w.count, channels]));
    }
  }
  const stacked = ops.reshape(ops.concat(phases, 0), [
    h.stride,
    w.stride,
    n,
    h.count,
    w.count,
    channels,
  ]);
  return interleave(ops, ops.transpose(stacked, [2, 3, 0, 4, 1, 5]), dxShape, h, w);
}

const conv2dBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
    attrs as unknown as BackpropInputAttrs;
  if (dataFormat !== 'NHWC') throw new Error('wasm Conv2DBackpropInput supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const h = planAxis(inputShape[1], info.filterHeight, info.strideHeight, info.padInfo.top);
  const w = planAxis(inputShape[2], info.filterWidth, info.strideWidth, info.padInfo.left);

  const ops = new WasmOps(backend);
  const strided = h.stride > 1 || w.stride > 1;
  const out =
    strided && inputShape[3] >= minChannelsForPhaseConvs
      ? oneConvPerPhase(ops, dy, filter, inputShape, h, w)
      : allPhasesInOneConv(ops, dy, filter, inputShape, h, w);
  ops.dispose(out);
  return out;
};

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput,
};
