/**
 * Conv2DBackpropFilter for wasm, which has none (and whose Conv3DBackpropFilterV2 is wrong for
 * strides > 1). The filter gradient of y = conv(x, w, stride s) is
 *   dw[i, j, ci, co] = sum_{n,p,q} x[n, s*p + i - padTop, s*q + j - padLeft, ci] * dy[n, p, q, co],
 * which is itself a stride-1 convolution with dilation s: batch and channel axes swap roles
 * (input transpose(x) = [ci, h, w, n], filter transpose(dy) = [p, q, n, co]), so XNNPACK's
 * forward convolution does all the arithmetic.
 *
 * From batch 16 up, the GEMM of columns.ts is used instead: the same multiply-adds without the
 * convolution's indirection (DCGAN batch 64, 14x14x64 -> 7x7x128, 5x5/2: 48 ms against 51 ms CPU
 * time). Below that its copies into the column matrix are too short to pay off.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { filterGradientByGemm } from './columns.js';
import { WasmOps, window1d, type Shape4 } from './wasm-ops.js';

/** The GEMM path copies runs of batch-many floats; shorter runs cost more than they save. */
const minBatchForGemm = 16;

interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: Shape4;
}

const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as BackpropFilterAttrs;
  if (dataFormat !== 'NHWC') throw new Error('wasm Conv2DBackpropFilter supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const [, height, width] = x.shape;
  const [, outHeight, outWidth] = dy.shape;

  // The rows of x that the convolution reads: from -padTop, one filter span plus (outHeight-1)
  // strides. Rows past the data are zeros (conv padding); rows never read are cut off.
  const rows = window1d(
    height,
    -info.padInfo.top,
    info.filterHeight + (outHeight - 1) * info.strideHeight,
  );
  const cols = window1d(
    width,
    -info.padInfo.left,
    info.filterWidth + (outWidth - 1) * info.strideWidth,
  );

  const ops = new WasmOps(backend);
  if (x.shape[0] >= minBatchForGemm) {
    const out = filterGradientByGemm(ops, x, dy, {
      x: x.shape as Shape4,
      dy: dy.shape as Shape4,
      kernel: [info.filterHeight, info.filterWidth],
      stride: [info.strideHeight, info.strideWidth],
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
    });
    ops.dispose(out);
    return out;
  }
  let xT = ops.transpose(x, [3, 1, 2, 0]);
  if (rows.keep < height || cols.keep < width) {
    xT = ops.slice(xT, [0, rows.begin, cols.begin, 0], [-1, rows.keep, cols.keep, -1]);
  }
  const dyT = ops.transpose(dy, [1, 2, 0, 3]);
  const grad = ops.conv2d(
    xT,
    dyT,
    [
      [0, 0],
      [rows.before, rows.after],
      [cols.before, cols.after],
      [0, 0],
    ],
    [info.strideHeight, info.strideWidth],
  );
  const out = ops.transpose(grad, [1, 2, 0, 3]);
  ops.dispose(out);
  return out;
};

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter,
};
