import { describe, expect, it } from 'vitest';
import { featureMatrix } from '../../src/metrics/feature-matrix.js';
import {
  defaultSigmaGrid,
  parzenLogLikelihood,
  parzenWindowEvaluation,
} from '../../src/metrics/parzen-window.js';
import { readCase } from '../helpers/cases.js';

const caseName = '08-parzen-window-loglik';

interface Input {
  generated: number[][];
  test: number[][];
  valid: number[][];
  sigma_fixed: number;
  sigma_grid: number[];
}
interface Expected {
  fixed_sigma: { per_point_ll: number[]; mean_ll: number; se: number };
  cross_validated_sigma: {
    valid_mean_ll_per_sigma: number[];
    chosen_sigma: number;
    test_per_point_ll: number[];
    test_mean_ll: number;
    test_se: number;
  };
}

const input = readCase<Input>(caseName, 'input.json');
const expected = readCase<Expected>(caseName, 'expected.json');
const generated = featureMatrix(input.generated);
const test = featureMatrix(input.test);

/** The case's tolerance: abs 1e-6 on each log-likelihood, never -Infinity or NaN. */
function expectClose(got: number[], want: number[]): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => {
    expect(Number.isFinite(g)).toBe(true);
    expect(Math.abs(g - want[i])).toBeLessThanOrEqual(1e-6);
  });
}

describe('Parzen-window log-likelihood (case 08)', () => {
  it('stays finite for points far from every sample at a small sigma', () => {
    const result = parzenLogLikelihood(generated, test, input.sigma_fixed);
    const want = expected.fixed_sigma;
    expectClose(result.perPoint, want.per_point_ll);
    expectClose([result.mean, result.standardError], [want.mean_ll, want.se]);
  });

  it('chooses sigma on the validation set, then scores the test set with it', () => {
    const result = parzenWindowEvaluation(
      generated,
      featureMatrix(input.valid),
      test,
      input.sigma_grid,
    );
    const want = expected.cross_validated_sigma;
    expectClose(result.validationMeans, want.valid_mean_ll_per_sigma);
    expect(result.sigma).toBe(want.chosen_sigma);
    expectClose(result.perPoint, want.test_per_point_ll);
    expectClose([result.mean, result.standardError], [want.test_mean_ll, want.test_se]);
  });

  it('defaults to the same sigma grid as the GAN paper', () => {
    defaultSigmaGrid.forEach((sigma, i) => {
      expect(Math.abs(sigma - input.sigma_grid[i])).toBeLessThanOrEqual(1e-15 * sigma);
    });
  });

  it('rejects a non-positive sigma and an empty grid', () => {
    expect(() => parzenLogLikelihood(generated, test, 0)).toThrow(
      expect.objectContaining({ code: 'GANFORGE_ERR_METRIC_INPUT' }),
    );
    expect(() => parzenWindowEvaluation(generated, test, test, [])).toThrow(
      expect.objectContaining({ code: 'GANFORGE_ERR_METRIC_INPUT' }),
    );
  });
});
