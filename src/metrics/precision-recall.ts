/**
 * Improved precision and recall (Kynkäänniemi et al., "Improved precision and recall metric
 * for assessing generative models", NeurIPS 2019). Each set's manifold is the union of balls
 * around its points, each ball reaching the point's k-th nearest neighbour in the same set.
 * Precision: share of generated points inside the real manifold (fidelity). Recall: share of
 * real points inside the generated manifold (coverage).
 */
import {
  assertFeatureMatrix,
  assertMinimumRows,
  assertPositiveInteger,
  assertSameDimensions,
  type FeatureMatrix,
} from './feature-matrix.js';

export interface PrecisionRecall {
  precision: number;
  recall: number;
  k: number;
}

export function precisionRecall(
  real: FeatureMatrix,
  generated: FeatureMatrix,
  options: { k?: number } = {},
): PrecisionRecall {
  const k = options.k ?? 3;
  assertFeatureMatrix(real, 'real');
  assertFeatureMatrix(generated, 'generated');
  assertSameDimensions(real.cols, generated.cols);
  assertPositiveInteger(k, 'k');
  assertMinimumRows(real.rows, k + 1, 'real');
  assertMinimumRows(generated.rows, k + 1, 'generated');

  const realRadii = neighbourRadii2(real, k);
  const generatedRadii = neighbourRadii2(generated, k);
  return {
    precision: coveredShare(generated, real, realRadii),
    recall: coveredShare(real, generated, generatedRadii),
    k,
  };
}

function distance2(a: FeatureMatrix, i: number, b: FeatureMatrix, j: number): number {
  let sum = 0;
  for (let c = 0; c < a.cols; c++) {
    const diff = a.data[i * a.cols + c] - b.data[j * b.cols + c];
    sum += diff * diff;
  }
  return sum;
}

/** Squared distance of each point to its k-th nearest other point of the same set. */
function neighbourRadii2(x: FeatureMatrix, k: number): Float64Array {
  const radii = new Float64Array(x.rows);
  const distances = new Float64Array(x.rows - 1);
  for (let i = 0; i < x.rows; i++) {
    let n = 0;
    for (let j = 0; j < x.rows; j++) if (j !== i) distances[n++] = distance2(x, i, x, j);
    radii[i] = distances.sort()[k - 1];
  }
  return radii;
}

/** Share of the points of `x` within radius of at least one point of `manifold`. */
function coveredShare(x: FeatureMatrix, manifold: FeatureMatrix, radii2: Float64Array): number {
  let covered = 0;
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < manifold.rows; j++) {
      if (distance2(x, i, manifold, j) <= radii2[j]) {
        covered++;
        break;
      }
    }
  }
  return covered / x.rows;
}
