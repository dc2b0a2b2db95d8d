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
});
