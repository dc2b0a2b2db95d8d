/**
 * The one dense kernel the metrics need: C += (A - 1 meanA^T)^T (B - 1 meanB^T) for row-major A
 * (rows x aCols) and B (rows x bCols). With A = B it is the scatter matrix of a covariance; with
 * a symmetric A it is A * B. Cache-blocked after Goto & van de Geijn, "Anatomy of
 * high-performance matrix multiplication" (2008): a chunk of rows is packed into panels of four
 * columns, and a 4 x 4 block of C stays in registers while it runs down two panels.
 *
 * The 4 x 4 register block itself is WebAssembly SIMD (simd-kernels.ts); the packing and
 * blocking around it stay here. `accumulateTransposedProduct` closes over nothing (no imports,
 * no inner functions), because the worker threads of parallel-product.ts run its source text.
 */

export interface ProductJob {
  a: Float64Array;
  aCols: number;
  /** Subtracted from every row of A while packing; null for none. */
  aMean: Float64Array | null;
  /** null: B is A, packed once, and only blocks on or above the diagonal are computed. */
  b: Float64Array | null;
  bCols: number;
  bMean: Float64Array | null;
  rows: number;
  /** This job's share of C's columns, in panels of four. */
  panelStart: number;
  panelEnd: number;
  /** ceil(aCols / 4) * 4 rows by ceil(bCols / 4) * 4 columns, row-major. */
  out: Float64Array;
  /** simd-kernels.ts, compiled once and shared (a Module can be posted to workers). */
  kernel: WebAssembly.Module;
}

export function accumulateTransposedProduct(job: ProductJob): void {
  const { a, aCols, aMean, bCols, bMean, rows, panelStart, panelEnd, out } = job;
  const symmetric = job.b === null;
  const b = job.b === null ? a : job.b;
  const outCols = Math.ceil(bCols / 4) * 4;
  const aPanels = symmetric ? panelEnd : Math.ceil(aCols / 4);
  const bOffset = symmetric ? 0 : panelStart;

  // The packed panels live in the kernel's memory, in float64 units: 16 for the block result,
  // then A's panels, then B's (unless B is A).
  const packA = 16;
  const packB = symmetric ? packA : packA + 256 * aPanels * 4;
  const length = packA + 256 * aPanels * 4 + (symmetric ? 0 : 256 * (panelEnd - panelStart) * 4);
  const memory = new WebAssembly.Memory({ initial: Math.ceil((length * 8) / 65536) });
  const instance = new WebAssembly.Instance(job.kernel, { env: { memory } });
  const block = instance.exports.block as (a: number, b: number, kn: number, out: number) => void;
  const heap = new Float64Array(memory.buffer);

  // 256 rows per pass: a block of 16 panels of A (64 columns) is then 128 KiB and stays in L2
  // while every panel of B streams past it.
  for (let r0 = 0; r0 < rows; r0 += 256) {
    const kn = Math.min(256, rows - r0);
    for (let p = 0; p < aPanels; p++) {
      let o = packA + p * kn * 4;
      for (let k = 0; k < kn; k++) {
        const base = (r0 + k) * aCols;
        for (let u = 0; u < 4; u++) {
          const c = p * 4 + u;
          heap[o++] = c < aCols ? a[base + c] - (aMean === null ? 0 : aMean[c]) : 0;
        }
      }
    }
    if (!symmetric) {
      for (let p = panelStart; p < panelEnd; p++) {
        let o = packB + (p - panelStart) * kn * 4;
        for (let k = 0; k < kn; k++) {
          const base = (r0 + k) * bCols;
          for (let u = 0; u < 4; u++) {
            const c = p * 4 + u;
            heap[o++] = c < bCols ? b[base + c] - (bMean === null ? 0 : bMean[c]) : 0;
          }
        }
      }
    }

    for (let i0 = 0; i0 < aPanels; i0 += 16) {
      const i1 = Math.min(i0 + 16, aPanels);
      for (let pj = symmetric ? Math.max(i0, panelStart) : panelStart; pj < panelEnd; pj++) {
        const iEnd = symmetric ? Math.min(i1, pj + 1) : i1;
        for (let pi = i0; pi < iEnd; pi++) {
          block((packA + pi * kn * 4) * 8, (packB + (pj - bOffset) * kn * 4) * 8, kn, 0);
          for (let u = 0; u < 4; u++) {
            const o = (pi * 4 + u) * outCols + pj * 4;
            out[o] += heap[4 * u];
            out[o + 1] += heap[4 * u + 1];
            out[o + 2] += heap[4 * u + 2];
            out[o + 3] += heap[4 * u + 3];
          }
        }
      }
    }
  }
}
