/**
 * The one dense kernel the metrics need: C += (A - 1 meanA^T)^T (B - 1 meanB^T) for row-major A
 * (rows x aCols) and B (rows x bCols). With A = B it is the scatter matrix of a covariance; with
 * a symmetric A it is A * B. Cache-blocked after Goto & van de Geijn, "Anatomy of
 * high-performance matrix multiplication" (2008): a chunk of rows is packed into panels of four
 * columns, and a 4 x 4 block of C stays in registers while it runs down two panels.
 *
 * `accumulateTransposedProduct` closes over nothing (no imports, no inner functions), because
 * the worker threads of parallel-product.ts run its source text.
 */

export interface ProductJob {
  a: Float64Array;
  aCols: number;
  /** Subtracted from every row of A while packing; null for none. */
  aMean: Float64Array | null;
  /** null: B is A, packed once. */
  b: Float64Array | null;
  bCols: number;
  bMean: Float64Array | null;
  rows: number;
  /** C is symmetric (A^T A, or F^T S F): only blocks on or above the diagonal are computed. */
  upperOnly: boolean;
  /** This job's share of C's columns, in panels of four. */
  panelStart: number;
  panelEnd: number;
  /** ceil(aCols / 4) * 4 rows by ceil(bCols / 4) * 4 columns, row-major. */
  out: Float64Array;
}

export function accumulateTransposedProduct(job: ProductJob): void {
  const { a, aCols, aMean, bCols, bMean, rows, panelStart, panelEnd, out } = job;
  const sameOperand = job.b === null;
  const symmetric = job.upperOnly || sameOperand;
  const b = job.b === null ? a : job.b;
  const outCols = Math.ceil(bCols / 4) * 4;
  const aPanels = symmetric ? panelEnd : Math.ceil(aCols / 4);
  const packA = new Float64Array(256 * aPanels * 4);
  const packB = sameOperand ? packA : new Float64Array(256 * (panelEnd - panelStart) * 4);
  const bOffset = sameOperand ? 0 : panelStart;

  // 256 rows per pass: a block of 16 panels of A (64 columns) is then 128 KiB and stays in L2
  // while every panel of B streams past it.
  for (let r0 = 0; r0 < rows; r0 += 256) {
    const kn = Math.min(256, rows - r0);
    for (let p = 0; p < aPanels; p++) {
      let o = p * kn * 4;
      for (let k = 0; k < kn; k++) {
        const base = (r0 + k) * aCols;
        for (let u = 0; u < 4; u++) {
          const c = p * 4 + u;
          packA[o++] = c < aCols ? a[base + c] - (aMean === null ? 0 : aMean[c]) : 0;
        }
      }
    }
    if (!sameOperand) {
      for (let p = panelStart; p < panelEnd; p++) {
        let o = (p - panelStart) * kn * 4;
        for (let k = 0; k < kn; k++) {
          const base = (r0 + k) * bCols;
          for (let u = 0; u < 4; u++) {
            const c = p * 4 + u;
            packB[o++] = c < bCols ? b[base + c] - (bMean === null ? 0 : bMean[c]) : 0;
          }
        }
      }
    }

    for (let i0 = 0; i0 < aPanels; i0 += 16) {
      const i1 = Math.min(i0 + 16, aPanels);
      for (let pj = symmetric ? Math.max(i0, panelStart) : panelStart; pj < panelEnd; pj++) {
        const iEnd = symmetric ? Math.min(i1, pj + 1) : i1;
        for (let pi = i0; pi < iEnd; pi++) {
          let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0; // prettier-ignore
          let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0; // prettier-ignore
          let x = pi * kn * 4;
          let y = (pj - bOffset) * kn * 4;
          for (let k = 0; k < kn; k++, x += 4, y += 4) {
            const a0 = packA[x], a1 = packA[x + 1], a2 = packA[x + 2], a3 = packA[x + 3]; // prettier-ignore
            const b0 = packB[y], b1 = packB[y + 1], b2 = packB[y + 2], b3 = packB[y + 3]; // prettier-ignore
            c00 += a0 * b0;
            c01 += a0 * b1;
            c02 += a0 * b2;
            c03 += a0 * b3; // prettier-ignore
            c10 += a1 * b0;
            c11 += a1 * b1;
            c12 += a1 * b2;
            c13 += a1 * b3; // prettier-ignore
            c20 += a2 * b0;
            c21 += a2 * b1;
            c22 += a2 * b2;
            c23 += a2 * b3; // prettier-ignore
            c30 += a3 * b0;
            c31 += a3 * b1;
            c32 += a3 * b2;
            c33 += a3 * b3; // prettier-ignore
          }
          let o = pi * 4 * outCols + pj * 4;
          out[o] += c00;
          out[o + 1] += c01;
          out[o + 2] += c02;
          out[o + 3] += c03; // prettier-ignore
          o += outCols;
          out[o] += c10;
          out[o + 1] += c11;
          out[o + 2] += c12;
          out[o + 3] += c13; // prettier-ignore
          o += outCols;
          out[o] += c20;
          out[o + 1] += c21;
          out[o + 2] += c22;
          out[o + 3] += c23; // prettier-ignore
          o += outCols;
          out[o] += c30;
          out[o + 1] += c31;
          out[o + 2] += c32;
          out[o + 3] += c33; // prettier-ignore
        }
      }
    }
  }
}
