/**
 * Float32 network outputs to the float64 rows the metrics take. The widening is exact; it is the
 * metrics' sums over many rows that need the extra precision.
 */
import type * as tf from '@tensorflow/tfjs';
import type { FeatureMatrix } from '../feature-matrix.js';

/** Stacks [n_i, cols] tensors, in order, into one FeatureMatrix. */
export async function tensorRows(chunks: tf.Tensor2D[], cols: number): Promise<FeatureMatrix> {
  const rows = chunks.reduce((n, chunk) => n + chunk.shape[0], 0);
  const data = new Float64Array(rows * cols);
  let offset = 0;
  for (const chunk of chunks) {
    if (chunk.shape[1] !== cols) throw new RangeError(`rows of ${chunk.shape[1]}, not ${cols}`);
    data.set(await chunk.data(), offset);
    offset += chunk.size;
  }
  return { rows, cols, data };
}
