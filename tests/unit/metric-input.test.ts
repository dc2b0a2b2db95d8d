import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { featureMatrix } from '../../src/metrics/feature-matrix.js';
import {
  frechetDistance,
  frechetDistanceFromStatistics,
} from '../../src/metrics/frechet-distance.js';
import { kernelInceptionDistance } from '../../src/metrics/kernel-inception-distance.js';
import { parzenLogLikelihood } from '../../src/metrics/parzen-window.js';
import { precisionRecall } from '../../src/metrics/precision-recall.js';
import { normalFeatures } from '../helpers/random-features.js';

/** Runs `compute` (sync or async) and expects it to fail with `code`. */
async function expectCode(code: ErrorCode, compute: () => unknown): Promise<void> {
  await expect(Promise.resolve().then(compute)).rejects.toMatchObject({ code });
}

describe('metric input validation', () => {
  const a = normalFeatures(10, 4, 1);
  const wider = normalFeatures(10, 5, 2);

  it('rejects ragged rows, empty rows and non-finite values', async () => {
    await expectCode('GANFORGE_ERR_METRIC_INPUT', () => featureMatrix([[1, 2], [3]]));
    await expectCode('GANFORGE_ERR_METRIC_INPUT', () => featureMatrix([[], []]));
    await expectCode('GANFORGE_ERR_METRIC_INPUT', () => featureMatrix([[1, NaN]]));
    const infinite = { ...a, data: a.data.map((v, i) => (i === 7 ? Infinity : v)) };
    await expectCode('GANFORGE_ERR_METRIC_INPUT', () => frechetDistance(infinite, a));
    await expectCode('GANFORGE_ERR_METRIC_INPUT', () => frechetDistance({ ...a, rows: 11 }, a));
  });

  it('rejects sets too small for the metric', async () => {
    const one = { rows: 1, cols: 4, data: a.data.slice(0, 4) };
    await expectCode('GANFORGE_ERR_METRIC_TOO_FEW_SAMPLES', () => frechetDistance(one, a));
    await expectCode('GANFORGE_ERR_METRIC_TOO_FEW_SAMPLES', () => kernelInceptionDistance(a, one));
    await expectCode('GANFORGE_ERR_METRIC_TOO_FEW_SAMPLES', () => precisionRecall(a, a, { k: 10 }));
  });

  it('rejects sets whose feature dimensions differ', async () => {
    const code = 'GANFORGE_ERR_METRIC_DIMENSION_MISMATCH';
    await expectCode(code, () => frechetDistance(a, wider));
    await expectCode(code, () => kernelInceptionDistance(a, wider));
    await expectCode(code, () => parzenLogLikelihood(a, wider, 0.1));
    await expectCode(code, () => precisionRecall(a, wider));
    const stats = (dims: number) => ({
      count: 10,
      dims,
      mean: new Float64Array(dims),
      covariance: new Float64Array(dims * dims),
    });
    await expectCode(code, () => frechetDistanceFromStatistics(stats(4), stats(5)));

    const truncated = { ...stats(4), covariance: new Float64Array(15) };
    const single = { ...stats(4), count: 1 };
    await expectCode('GANFORGE_ERR_METRIC_INPUT', () =>
      frechetDistanceFromStatistics(truncated, stats(4)),
    );
    await expectCode('GANFORGE_ERR_METRIC_TOO_FEW_SAMPLES', () =>
      frechetDistanceFromStatistics(stats(4), single),
    );
  });

  it('rejects options out of range', async () => {
    await expectCode('GANFORGE_ERR_METRIC_INPUT', () =>
      kernelInceptionDistance(a, a, { subsets: 0 }),
    );
    await expectCode('GANFORGE_ERR_METRIC_INPUT', () =>
      kernelInceptionDistance(a, a, { subsetSize: 1 }),
    );
    await expectCode('GANFORGE_ERR_METRIC_INPUT', () => precisionRecall(a, a, { k: 1.5 }));
  });
});
