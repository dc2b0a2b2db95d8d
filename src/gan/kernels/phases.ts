/**
 * The input gradient of a strided convolution as s*s stride-1 convolutions, one per output phase
 * (sub-pixel decomposition; Shi et al. 2016, "Real-time single image and video super-resolution
 * using an efficient sub-pixel convolutional neural network", sec. 2.2).
 *
 * With y = conv(x, w, stride s), dx[h] = sum over (p, i) with s*p + i - padTop = h of dy[p] w[i].
 * For the rows h = s*a + u of phase u only the taps i = i0 + s*t reach, i0 = (u + padTop) mod s,
 * and then p = a + d - t with d = (u + padTop - i0) / s. So phase u of dx is a stride-1
 * correlation of dy, starting at row d - T + 1, with the sub-filter of those T taps reversed
 * (and its channel axes swapped); columns alike. Each phase is one XNNPACK convolution with
 * exactly the multiply-adds it needs, so the arithmetic runs on the backend's thread pool and
 * only the interleaving copies stay in JavaScript.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { ConvGeometry } from './columns.js';
import { window1d, type WasmOps } from './wasm-ops.js';

/** The taps of one phase along one axis, and the window of dy its correlation reads. */
interface PhaseAxis {
  /** First tap index and how many taps (every s-th) reach this phase. */
  firstTap: number;
  taps: number;
  /** Output positions of the phase: rows u, u + s, ... below the input size. */
  length: number;
  /** Where in dy the correlation starts (may be negative: zeros before dy). */
  start: number;
}

function phaseAxis(
  phase: number,
  stride: number,
  kernel: number,
  pad: number,
  size: number,
): PhaseAxis {
  const firstTap = (phase + pad) % stride;
  const taps = firstTap < kernel ? Math.ceil((kernel - firstTap) / stride) : 0;
  const length = Math.ceil((size - phase) / stride);
  const shift = (phase + pad - firstTap) / stride;
  return { firstTap, taps, length, start: shift - taps + 1 };
}

/**
 * The sub-filter of one phase, [rowTaps, colTaps, co, ci]: taps reversed, channels swapped, so
 * that a forward convolution of dy with it is the phase's correlation.
 */
function phaseFilter(
  ops: WasmOps,
  filter: TensorInfo,
  rows: PhaseAxis,
  cols: PhaseAxis,
  stride: [number, number],
): TensorInfo {
  const [, kw, inChannels, outChannels] = filter.shape;
  return ops.make([rows.taps, cols.taps, outChannels, inChannels], (out) => {
    const w = ops.values(filter);
    let dst = 0;
    for (let ti = 0; ti < rows.taps; ti++) {
      const i = rows.firstTap + stride[0] * (rows.taps - 1 - ti);
      for (let tj = 0; tj < cols.taps; tj++) {
        const j = cols.firstTap + stride[1] * (cols.taps - 1 - tj);
        const src = (i * kw + j) * inChannels * outChannels;
        for (let co = 0; co < outChannels; co++) {
          for (let ci = 0; ci < inChannels; ci++) out[dst++] = w[src + ci * outChannels + co];
        }
      }
    }
  });
}

/** heap[dst + s*k] = heap[src + k] for the `count` runs of `channels` floats of one output row. */
function scatterRow(
  heap: Float32Array,
  src: number,
  dst: number,
  count: number,
  channels: number,
  step: number,
): void {
  if (channels >= 16) {
    for (let b = 0; b < count; b++, src += channels, dst += step) {
      heap.copyWithin(dst, src, src + channels);
    }
    return;
  }
  for (let b = 0; b < count; b++, dst += step) {
    for (let c = 0; c < channels; c++) heap[dst + c] = heap[src++];
  }
}

/** One output phase (u, v) that some taps reach, with the window of dy it reads per axis. */
interface Phase {
  u: number;
  v: number;
  rows: PhaseAxis;
  cols: PhaseAxis;
  rowWindow: ReturnType<typeof window1d>;
  colWindow: ReturnType<typeof window1d>;
}

function phasesOf(g: ConvGeometry): { phases: Phase[]; complete: boolean } {
  const [, height, width] = g.x;
  const [sh, sw] = g.stride;
  const phases: Phase[] = [];
  let complete = true;
  for (let u = 0; u < Math.min(sh, height); u++) {
    const rows = phaseAxis(u, sh, g.kernel[0], g.padTop, height);
    for (let v = 0; v < Math.min(sw, width); v++) {
      const cols = phaseAxis(v, sw, g.kernel[1], g.padLeft, width);
      const rowWindow = window1d(g.dy[1], rows.start, rows.length + rows.taps - 1);
      const colWindow = window1d(g.dy[2], cols.start, cols.length + cols.taps - 1);
      if (rows.taps === 0 || cols.taps === 0 || rowWindow.keep === 0 || colWindow.keep === 0) {
        complete = false;
        continue;
      }
      phases.push({ u, v, rows, cols, rowWindow, colWindow });
    }
  }
  return { phases, complete };
}

/** dx of conv(x, w) from dy, one stride-1 convolution per phase, interleaved into dx. */
export function inputGradientByPhases(
  ops: WasmOps,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const [n, height, width, channels] = g.x;
  const [sh, sw] = g.stride;
  const { phases, complete } = phasesOf(g);
  // Phases no tap reaches stay zero; when every phase is computed, each entry is written once.
  const dx = complete ? ops.make(g.x, () => {}) : ops.zeros(g.x);

  for (const { u, v, rows, cols, rowWindow, colWindow } of phases) {
    const cropped = rowWindow.keep < g.dy[1] || colWindow.keep < g.dy[2];
    const input = cropped
      ? ops.slice(
          dy,
          [0, rowWindow.begin, colWindow.begin, 0],
          [-1, rowWindow.keep, colWindow.keep, -1],
        )
      : dy;
    const subFilter = phaseFilter(ops, filter, rows, cols, g.stride);
    const part = ops.conv2d(input, subFilter, [
      [0, 0],
      [rowWindow.before, rowWindow.after],
      [colWindow.before, colWindow.after],
      [0, 0],
    ]);

    const heap = ops.heap();
    let src = ops.offset(part);
    const base = ops.offset(dx);
    for (let b = 0; b < n; b++) {
      for (let a = 0; a < rows.length; a++, src += cols.length * channels) {
        const dst = base + ((b * height + sh * a + u) * width + v) * channels;
        scatterRow(heap, src, dst, cols.length, channels, sw * channels);
      }
    }
    for (const t of cropped ? [part, subFilter, input] : [part, subFilter]) ops.release(t);
  }
  return dx;
}
