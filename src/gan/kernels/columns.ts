/**
 * Convolution gradients as one plain matrix product each (XNNPACK's GEMM, run as a 1x1
 * convolution) plus a data movement pass over the wasm heap (Chellapilla et al. 2006, "High
 * performance convolutional neural networks for document processing": im2col / col2im).
 *
 * With y = conv(x, w, stride s), w [kh, kw, ci, co], the tap (i, j) of output pixel (n, p, q)
 * reads x[n, h, v] with h = s*p + i - padTop, v = s*q + j - padLeft. Then
 *   input gradient:  cols[npq, (i, j, ci)] = sum_co dy[npq, co] * w[i, j, ci, co],
 *                    dx[n, h, v, ci] += cols[npq, (i, j, ci)];
 *   filter gradient: dw[(i, j, ci), co] = sum_pqn colsT[(i, j, ci), (p, q, n)] * dy[p, q, n, co],
 *                    colsT[(i, j, ci), (p, q, n)] = x[n, h, v, ci] (zero outside x).
 * The products have the same multiply-adds as the convolutions, but as one wide GEMM with no
 * indirection they beat the dilated transposed convolution (filter gradient) on XNNPACK, and the
 * per-phase convolutions (input gradient) when the input has few channels; with more, the
 * col2im scatter on the main thread costs more than it saves (phases.ts). The column matrices are
 * built in batch (input gradient) or row (filter gradient) chunks so the heap stays bounded.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { WasmOps, Shape4 } from './wasm-ops.js';

/** Geometry shared by both gradients, from tfjs's Conv2DInfo. */
export interface ConvGeometry {
  /** x / dx [n, height, width, inChannels]. */
  x: Shape4;
  /** dy [n, outHeight, outWidth, outChannels]. */
  dy: Shape4;
  kernel: [number, number];
  stride: [number, number];
  padTop: number;
  padLeft: number;
}

/** The most floats one column chunk may hold (32 MB); tests lower it to exercise chunking. */
export const columnLimits = { floats: 1 << 23 };

/** heap[dst .. dst+length) += heap[src .. src+length), unrolled by 4 (~20% faster in V8). */
function addRun(heap: Float32Array, dst: number, src: number, length: number): void {
  const end = dst + length;
  for (; dst + 4 <= end; dst += 4, src += 4) {
    heap[dst] += heap[src];
    heap[dst + 1] += heap[src + 1];
    heap[dst + 2] += heap[src + 2];
    heap[dst + 3] += heap[src + 3];
  }
  for (; dst < end; dst++, src++) heap[dst] += heap[src];
}

/**
 * dx of conv(x, w) from dy, as cols = dy · wᵀ per batch chunk followed by the col2im
 * scatter-add above.
 */
export function inputGradientByGemm(
  ops: WasmOps,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const [n, height, width, channels] = g.x;
  const [, outHeight, outWidth, outChannels] = g.dy;
  const [kh, kw] = g.kernel;
  const taps = kh * kw * channels;

  // wᵀ as a 1x1 filter [1, 1, co, (i, j, ci)]: the GEMM's right-hand side, packed once.
  const filterT = ops.reshape(ops.transpose(ops.reshape(filter, [taps, outChannels]), [1, 0]), [
    1,
    1,
    outChannels,
    taps,
  ]);
  const dx = ops.zeros(g.x);
  const perImage = outHeight * outWidth * taps;
  const chunk = Math.max(1, Math.min(n, Math.floor(columnLimits.floats / perImage)));

  for (let first = 0; first < n; first += chunk) {
    const count = Math.min(chunk, n - first);
    const dyChunk = count === n ? dy : ops.slice(dy, [first, 0, 0, 0], [count, -1, -1, -1]);
    const cols = ops.conv2d(dyChunk, filterT, 'valid');
    const heap = ops.heap();
    let src = ops.offset(cols);
    const base = ops.offset(dx) + first * height * width * channels;
    for (let b = 0; b < count; b++) {
      const image = base + b * height * width * channels;
      for (let p = 0; p < outHeight; p++) {
        for (let q = 0; q < outWidth; q++) {
          for (let i = 0; i < kh; i++) {
            const row = g.stride[0] * p + i - g.padTop;
            if (row < 0 || row >= height) {
              src += kw * channels;
              continue;
            }
            for (let j = 0; j < kw; j++, src += channels) {
              const col = g.stride[1] * q + j - g.padLeft;
              if (col < 0 || col >= width) continue;
              addRun(heap, image + (row * width + col) * channels, src, channels);
            }
          }
        }
      }
    }
    ops.release(cols);
    if (dyChunk !== dy) ops.release(dyChunk);
  }
  return dx;
}

/**
 * dw of conv(x, w) from x and dy, as colsT · dy per chunk of rows (i, j, ci) of colsT, with
 * the pixels ordered (p, q, n) so that each copy into colsT is a run of n floats of xᵀ.
 */
export function filterGradientByGemm(
  ops: WasmOps,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const [n, height, width, channels] = g.x;
  const [, outHeight, outWidth, outChannels] = g.dy;
  const [kh, kw] = g.kernel;
  const rows = kh * kw * channels;
  const rowLength = outHeight * outWidth * n;

  const xT = ops.transpose(x, [3, 1, 2, 0]);
  const dyT = ops.reshape(ops.transpose(dy, [1, 2, 0, 3]), [1, 1, rowLength, outChannels]);
  const chunk = Math.max(1, Math.min(rows, Math.floor(columnLimits.floats / rowLength)));
  const parts: TensorInfo[] = [];

  for (let first = 0; first < rows; first += chunk) {
    const count = Math.min(chunk, rows - first);
    const colsT = ops.make([1, count, 1, rowLength], () => {});
    const heap = ops.heap();
    let dst = ops.offset(colsT);
    const xBase = ops.offset(xT);
    for (let r = first; r < first + count; r++) {
      const c = r % channels;
      const j = Math.floor(r / channels) % kw;
      const i = Math.floor(r / (channels * kw));
      for (let p = 0; p < outHeight; p++) {
        const row = g.stride[0] * p + i - g.padTop;
        if (row < 0 || row >= height) {
          heap.fill(0, dst, dst + outWidth * n);
          dst += outWidth * n;
          continue;
        }
        for (let q = 0; q < outWidth; q++, dst += n) {
          const col = g.stride[1] * q + j - g.padLeft;
          if (col < 0 || col >= width) {
            heap.fill(0, dst, dst + n);
            continue;
          }
          const src = xBase + ((c * height + row) * width + col) * n;
          heap.copyWithin(dst, src, src + n);
        }
      }
    }
    parts.push(ops.conv2d(colsT, dyT, 'valid'));
    ops.release(colsT);
  }
  const dw = parts.length === 1 ? parts[0] : ops.concat(parts, 1);
  return ops.reshape(dw, [kh, kw, channels, outChannels]);
}
