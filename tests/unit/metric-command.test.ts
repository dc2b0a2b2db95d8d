import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runMetric, type MetricOptions } from '../../src/cli/metric-command.js';
import { loadConfig } from '../../src/config.js';
import { readCase } from '../helpers/cases.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'ganforge-metric-command-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const config = loadConfig({});
const defaults: MetricOptions = { a: '', splits: 1, subsets: 2, seed: 0, k: 3, json: true };

async function file(name: string, rows: number[][]): Promise<string> {
  const target = path.join(dir, name);
  await writeFile(target, JSON.stringify(rows));
  return target;
}

describe('ganforge metric', () => {
  it('prints the FID of two feature files as JSON (case 02)', async () => {
    const { X, Y } = readCase<{ X: number[][]; Y: number[][] }>(
      '02-fid-rank-deficient-imaginary-sqrtm',
      'input.json',
    );
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const options = { ...defaults, a: await file('x.json', X), b: await file('y.json', Y) };

    expect(await runMetric('fid', options, config)).toBe(0);
    expect(JSON.parse(log.mock.calls[0][0] as string).fid).toBeCloseTo(20.0800042, 6);
    vi.restoreAllMocks();
  });

  it('exits with 2 and the error code for input that is not probabilities', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const options = { ...defaults, a: await file('p.json', [[0.5, 0.6]]) };

    expect(await runMetric('is', options, config)).toBe(2);
    expect(error.mock.calls[0][0]).toMatch(/^GANFORGE_ERR_METRIC_NOT_PROBABILITIES/);
    vi.restoreAllMocks();
  });

  const points = (scale: number) =>
    Array.from({ length: 6 }, (_, i) => [Math.sin(i) * scale, Math.cos(3 * i) * scale]);

  it.each([
    [
      'is',
      {
        a: [
          [0.5, 0.5],
          [null, 1],
        ],
      },
      {},
      /row 1, column 0 is null/,
    ],
    [
      'is',
      {
        a: [
          [true, false],
          [false, true],
        ],
      },
      {},
      /row 0, column 0 is true/,
    ],
    ['parzen', { a: points(1), b: points(1) }, { sigma: 1e-300 }, /sigma/],
    ['kid', { a: points(1e160), b: points(1.1e160) }, {}, /overflow double precision/],
  ] as const)(
    '%s: refuses input whose score would not be a finite number, with exit 2',
    async (metric, sets, extra, message) => {
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      const error = vi.spyOn(console, 'error').mockImplementation(() => {});
      const options: MetricOptions = { ...defaults, ...extra, a: '' };
      for (const [flag, rows] of Object.entries(sets)) {
        options[flag as 'a' | 'b'] = await file(`${metric}-${flag}.json`, rows as number[][]);
      }

      expect(await runMetric(metric, options, config)).toBe(2);
      expect(error.mock.calls[0][0]).toMatch(/^GANFORGE_ERR_METRIC_INPUT/);
      expect(error.mock.calls[0][0]).toMatch(message);
      expect(log).not.toHaveBeenCalled();
      vi.restoreAllMocks();
    },
  );
});
