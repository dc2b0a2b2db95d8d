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
  kernel: number;
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
    kernel,
    taps: Math.ceil(kernel / stride),
    first,
    count: Math.ceil((padBefore + size) / stride) - first,
    crop: padBefore - stride * first,
  };
}

/** Taps of phase r on one axis: i = r, r + s, ... below the kernel size. */
const phaseTaps = (axis: AxisPlan, r: number) => Math.ceil((axis.kernel - r) / axis.stride);

/**
 * dy cut and zero-padded so a valid stride-1 convolution with `taps` taps yields phase rows
 * first .. first+count-1: row m reads dy[m - taps + 1 .. m]. Undefined when it reads only zeros.
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

/** Where one phase's rows live: chunk (n, m_h, m_w) of dx channels starts at base + strides·idx. */
interface PhaseSource {
  tensor: TensorInfo;
  base: number;
  strides: [number, number, number];
}

/**
 * Writes phase (rh, rw)'s filter into `out`, laid out [tapsH, tapsW, dy channels, width] from
 * channel `offset`: tap t holds w[r + s*(taps-1-t)] (reversed, so the convolution correlates),
 * with dx and dy channels swapped. Taps past the kernel are left as they are (zeros).
 */
function writePhaseFilter(
  w: Float32Array,
  shape: Shape4,
  phase: { rh: number; rw: number; tapsH: number; tapsW: number },
  out: Float32Array,
  width: number,
  offset: number,
  h: AxisPlan,
  wd: AxisPlan,
): void {
  const [kh, kw, inChannels, outChannels] = shape;
  for (let t = 0; t < phase.tapsH; t++) {
    const i = phase.rh + h.stride * (phase.tapsH - 1 - t);
    if (i >= kh) continue;
    for (let u = 0; u < phase.tapsW; u++) {
      const j = phase.rw + wd.stride * (phase.tapsW - 1 - u);
      if (j >= kw) continue;
      const src = (i * kw + j) * inChannels * outChannels;
      const dst = (t * phase.tapsW + u) * outChannels * width + offset;
      for (let ci = 0; ci < inChannels; ci++) {
        for (let co = 0; co < outChannels; co++) {
          out[dst + co * width + ci] = w[src + ci * outChannels + co];
        }
      }
    }
  }
}

/** dx [N, H, W, C] from the phase rows, sources[rh][rw] (undefined: that phase is all zeros). */
function interleave(
  ops: WasmOps,
  sources: (PhaseSource | undefined)[][],
  dxShape: Shape4,
  h: AxisPlan,
  w: AxisPlan,
): TensorInfo {
  const [n, height, width, channels] = dxShape;
  return ops.make(dxShape, (dx) => {
    for (let rh = 0; rh < h.stride; rh++) {
      for (let rw = 0; rw < w.stride; rw++) {
        const source = sources[rh][rw];
        const src = source ? ops.values(source.tensor) : undefined;
        for (let m = Math.ceil((h.crop - rh) / h.stride); m < h.count; m++) {
          const row = m * h.stride + rh - h.crop;
          if (row >= height) break;
          for (let b = 0; b < n; b++) {
            const dstRow = (b * height + row) * width;
            for (let q = Math.ceil((w.crop - rw) / w.stride); q < w.count; q++) {
              const col = q * w.stride + rw - w.crop;
              if (col >= width) break;
              const dst = (dstRow + col) * channels;
              if (!src || !source) {
                dx.fill(0, dst, dst + channels);
                continue;
              }
              const from =
                source.base + b * source.strides[0] + m * source.strides[1] + q * source.strides[2];
              if (channels >= 16) dx.set(src.subarray(from, from + channels), dst);
              else for (let c = 0; c < channels; c++) dx[dst + c] = src[from + c];
            }
          }
        }
      }
    }
  });
}

function allPhasesInOneConv(
  ops: WasmOps,
  dy: TensorInfo,
  filter: TensorInfo,
  dxShape: Shape4,
  h: AxisPlan,
  w: AxisPlan,
) {
  const channels = dxShape[3];
  const outChannels = filter.shape[3];
  const phases = h.stride * w.stride;
  const window = dyWindow(ops, dy, h.taps, w.taps, h, w);
  if (!window) return interleave(ops, [], dxShape, h, w);

  const wide = ops.make([h.taps, w.taps, outChannels, phases * channels], (out) => {
    const weights = ops.values(filter);
    out.fill(0);
    for (let rh = 0; rh < h.stride; rh++) {
      for (let rw = 0; rw < w.stride; rw++) {
        const phase = { rh, rw, tapsH: h.taps, tapsW: w.taps };
        const offset = (rh * w.stride + rw) * channels;
        writePhaseFilter(
          weights,
          filter.shape as Shape4,
          phase,
          out,
          phases * channels,
          offset,
          h,
          w,
        );
      }
    }
  });
  const y = ops.conv2d(window.x, wide, window.pad);
  if (
    phases === 1 &&
    h.crop === 0 &&
    w.crop === 0 &&
    h.count === dxShape[1] &&
    w.count === dxShape[2]
  ) {
    return y;
  }
  const width = phases * channels;
  const strides: [number, number, number] = [h.count * w.count * width, w.count * width, width];
  const sources = Array.from({ length: h.stride }, (_, rh) =>
    Array.from({ length: w.stride }, (_, rw) => ({
      tensor: y,
      base: (rh * w.stride + rw) * channels,
      strides,
    })),
  );
  return interleave(ops, sources, dxShape, h, w);
}

function oneConvPerPhase(
  ops: WasmOps,
  dy: TensorInfo,
  filter: TensorInfo,
  dxShape: Shape4,
  h: AxisPlan,
  w: AxisPlan,
) {
  const channels = dxShape[3];
  const outChannels = filter.shape[3];
  const strides: [number, number, number] = [
    h.count * w.count * channels,
    w.count * channels,
    channels,
  ];
  const sources: (PhaseSource | undefined)[][] = [];
  for (let rh = 0; rh < h.stride; rh++) {
    sources.push([]);
    for (let rw = 0; rw < w.stride; rw++) {
      const phase = { rh, rw, tapsH: phaseTaps(h, rh), tapsW: phaseTaps(w, rw) };
      const window =
        phase.tapsH > 0 && phase.tapsW > 0
          ? dyWindow(ops, dy, phase.tapsH, phase.tapsW, h, w)
          : undefined;
      if (!window) {
        sources[rh].push(undefined);
        continue;
      }
      const taps = ops.make([phase.tapsH, phase.tapsW, outChannels, channels], (out) => {
        writePhaseFilter(ops.values(filter), filter.shape as Shape4, phase, out, channels, 0, h, w);
      });
      sources[rh].push({ tensor: ops.conv2d(window.x, taps, window.pad), base: 0, strides });
    }
  }
  return interleave(ops, sources, dxShape, h, w);
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
