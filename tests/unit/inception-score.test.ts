import { describe, expect, it } from 'vitest';
import { featureMatrix } from '../../src/metrics/feature-matrix.js';
import { inceptionScore } from '../../src/metrics/inception-score.js';
import { readCase } from '../helpers/cases.js';

const caseName = '05-inception-score-extremes';

interface ExpectedScore {
  is: number;
  rows_sum_to_one: boolean;
  is_after_row_normalisation?: number;
}

const input = readCase<Record<string, number[][]>>(caseName, 'input.json');
const expected = readCase<Record<string, ExpectedScore>>(caseName, 'expected.json');

/** The case's tolerance: rel 1e-9 in float64, finite. */
function expectClose(got: number, want: number): void {
  expect(Number.isFinite(got)).toBe(true);
  expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-9 * Math.abs(want));
}

function oneHot(classes: number[], k: number): number[][] {
  return classes.map((c) => Array.from({ length: k }, (_, j) => (j === c ? 1 : 0)));
}

describe('Inception Score on the shared cases (case 05)', () => {
  const valid = Object.keys(input).filter((name) => expected[name].rows_sum_to_one);

  it.each(valid)('matches the reference for %s', (name) => {
    const score = inceptionScore(featureMatrix(input[name]));
    expectClose(score.mean, expected[name].is);
    expect(score.std).toBe(0);
  });

  it('rejects rows that do not sum to 1, and scores them once renormalised', () => {
    const rows = input['tutorial_equal_3cls_0.33'];
    expect(() => inceptionScore(featureMatrix(rows))).toThrow(
      expect.objectContaining({ code: 'GANFORGE_ERR_METRIC_NOT_PROBABILITIES' }),
    );
    const normalised = rows.map((row) => row.map((v) => v / row.reduce((s, x) => s + x, 0)));
    expectClose(
      inceptionScore(featureMatrix(normalised)).mean,
      expected['tutorial_equal_3cls_0.33'].is_after_row_normalisation as number,
    );
  });
});

describe('Inception Score properties', () => {
  it('equals the number of classes for evenly spread one-hot rows', () => {
    for (const k of [1, 2, 7, 50]) {
      const classes = Array.from({ length: 3 * k }, (_, i) => i % k);
      expectClose(inceptionScore(featureMatrix(oneHot(classes, k))).mean, k);
    }
  });

  it('reports the mean and population std over contiguous splits', () => {
    const k = 5;
    const diverse = oneHot([0, 1, 2, 3, 4, 0, 1, 2, 3, 4], k);
    const collapsed = oneHot(Array(10).fill(2), k);
    const score = inceptionScore(featureMatrix([...diverse, ...collapsed]), { splits: 2 });
    expectClose(score.splits[0], k);
    expectClose(score.splits[1], 1);
    expectClose(score.mean, (k + 1) / 2);
    expectClose(score.std, (k - 1) / 2);
  });

  it('rejects negative entries, and more splits than rows', () => {
    expect(() => inceptionScore(featureMatrix([[1.5, -0.5]]))).toThrow(
      expect.objectContaining({ code: 'GANFORGE_ERR_METRIC_NOT_PROBABILITIES' }),
    );
    expect(() => inceptionScore(featureMatrix(oneHot([0, 1], 2)), { splits: 3 })).toThrow(
      expect.objectContaining({ code: 'GANFORGE_ERR_METRIC_TOO_FEW_SAMPLES' }),
    );
  });
});
