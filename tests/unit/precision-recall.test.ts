import { describe, expect, it } from 'vitest';
import { precisionRecall } from '../../src/metrics/precision-recall.js';
import { mapColumns, normalFeatures } from '../helpers/random-features.js';

describe('Precision and recall on k-NN manifolds (k = 3)', () => {
  const real = normalFeatures(80, 5, 1);

  it('is 1 and 1 for identical sets', () => {
    expect(precisionRecall(real, real)).toEqual({ precision: 1, recall: 1, k: 3 });
  });

  it('is 0 and 0 for sets far apart', () => {
    const far = mapColumns(normalFeatures(50, 5, 2), (v) => v + 100);
    expect(precisionRecall(real, far)).toEqual({ precision: 0, recall: 0, k: 3 });
  });

  it('keeps precision and loses recall when the generator collapses onto one real point', () => {
    const collapsed = mapColumns(normalFeatures(20, 5, 3, 1e-3), (v, j) => v + real.data[j]);
    const { precision, recall } = precisionRecall(real, collapsed);
    expect(precision).toBe(1);
    expect(recall).toBeLessThan(0.1);
  });

  it('needs more than k points in each set', () => {
    const three = { ...real, rows: 3, data: real.data.slice(0, 3 * real.cols) };
    expect(() => precisionRecall(real, three)).toThrow(
      expect.objectContaining({ code: 'GANFORGE_ERR_METRIC_TOO_FEW_SAMPLES' }),
    );
  });
});
