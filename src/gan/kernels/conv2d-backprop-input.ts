/**
 * Conv2DBackpropInput for wasm (the stock kernel is a naive loop, ~9x a forward convolution).
 * It is the input gradient of conv2d and the forward pass of conv2dTranspose.
 *
 * Strided, with 16 or more input channels: s*s stride-1 XNNPACK convolutions, one per output
 * phase, copied into place (phases.ts). The convolutions run on the backend's thread pool; the
 * interleaving is one copy of dx. DCGAN batch 64, 7x7x128 -> 14x14x64, 5x5/2: 19 ms wall with
 * 2 threads and 33 ms with 1, against 22 and 36 ms for the GEMM and col2im below, whose
 * scatter-add runs on the main thread alone.
 *
 * Strided, with fewer channels: one GEMM and a col2im scatter-add (columns.ts). XNNPACK is slow
 * for convolutions with so few output channels (14x14x64 -> 28x28x1: 2.4 ms against 2.7).
 *
 * Stride 1: dx[h] = sum_i dy[h + padTop - i] * w[i], a plain convolution of dy, zero-padded by
 * k - 1 - padTop before, with the filter reversed and its channel axes swapped. It needs no
 * scatter, so it stays one XNNPACK convolution.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { inputGradientByGemm } from './columns.js';
import { inputGradientByPhases } from './phases.js';
import { WasmOps, window1d, type Shape4 } from './wasm-ops.js';

/** Below this many dx channels, each phase convolution has too few outputs for XNNPACK. */
const minChannelsForPhases = 16;

interface BackpropInputAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: Shape4;
}

/** w [kh, kw, ci, co] reversed on both spatial axes, as [kh, kw, co, ci]. */
function reversedSwappedFilter(ops: WasmOps, filter: TensorInfo): TensorInfo {
  const [kh, kw, inChannels, outChannels] = filter.shape;
  return ops.make([kh, kw, outChannels, inChannels], (out) => {
    const w = ops.values(filter);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const src = (i * kw + j) * inChannels * outChannels;
        const dst = ((kh - 1 - i) * kw + (kw - 1 - j)) * outChannels * inChannels;
        for (let ci = 0; ci < inChannels; ci++) {
          for (let co = 0; co < outChannels; co++) {
            out[dst + co * inChannels + ci] = w[src + ci * outChannels + co];
          }
        }
      }
    }
  });
}

/** The stride-1 input gradient: dy cropped or zero-padded so a valid convolution yields dx. */
function unitStrideInputGradient(
  ops: WasmOps,
  dy: TensorInfo,
  filter: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { inHeight: height, inWidth: width } = info;
  const rows = window1d(
    dy.shape[1],
    info.padInfo.top - info.filterHeight + 1,
    height + info.filterHeight - 1,
  );
  const cols = window1d(
    dy.shape[2],
    info.padInfo.left - info.filterWidth + 1,
    width + info.filterWidth - 1,
  );
  if (rows.keep === 0 || cols.keep === 0) {
    return ops.zeros([info.batchSize, height, width, info.inChannels]);
  }
  const x =
    rows.keep < dy.shape[1] || cols.keep < dy.shape[2]
      ? ops.slice(dy, [0, rows.begin, cols.begin, 0], [-1, rows.keep, cols.keep, -1])
      : dy;
  return ops.conv2d(x, reversedSwappedFilter(ops, filter), [
    [0, 0],
    [rows.before, rows.after],
    [cols.before, cols.after],
    [0, 0],
  ]);
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

  const ops = new WasmOps(backend);
  const geometry = {
    x: inputShape,
    dy: dy.shape as Shape4,
    kernel: [info.filterHeight, info.filterWidth] as [number, number],
    stride: [info.strideHeight, info.strideWidth] as [number, number],
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
  const strided = info.strideHeight > 1 || info.strideWidth > 1;
  const out = !strided
    ? unitStrideInputGradient(ops, dy, filter, info)
    : inputShape[3] >= minChannelsForPhases
      ? inputGradientByPhases(ops, dy, filter, geometry)
      : inputGradientByGemm(ops, dy, filter, geometry);
  ops.dispose(out);
  return out;
};

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput,
};
