import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, readFeatureFile } from '../../src/metrics/feature-files.js';

/** A .npy (format 1.0) with the given header fields and raw data bytes. */
function npy(descr: string, fortran: boolean, shape: string, data: Buffer): Buffer {
  const order = fortran ? 'True' : 'False';
  const header = `{'descr': '${descr}', 'fortran_order': ${order}, 'shape': ${shape}, }\n`;
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'ganforge-feature-files-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('feature files', () => {
  it('round-trips float64 .npy', () => {
    const x = { rows: 2, cols: 3, data: Float64Array.from([1, 2, 3, 4, 5, 6.5]) };
    const bytes = encodeNpy(x);
    expect((bytes.indexOf('\n') + 1) % 64).toBe(0);
    expect(decodeNpy(bytes)).toEqual(x);
  });

  it('reads big-endian float32 in Fortran order', () => {
    const data = Buffer.alloc(4 * 6);
    // Column after column of [[1, 2, 3], [4, 5, 6]].
    [1, 4, 2, 5, 3, 6].forEach((v, i) => data.writeFloatBE(v, 4 * i));
    const x = decodeNpy(npy('>f4', true, '(2, 3)', data));
    expect(Array.from(x.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads JSON rows', async () => {
    const file = path.join(dir, 'rows.json');
    await writeFile(file, '[[0.5, 0.5], [1, 0]]');
    expect(await readFeatureFile(file)).toMatchObject({ rows: 2, cols: 2 });
  });

  it('rejects other shapes and dtypes, truncation, folders and unknown files', async () => {
    const eight = Buffer.alloc(8 * 8);
    for (const bytes of [
      npy('<f8', false, '(2, 2, 2)', eight),
      npy('<i8', false, '(2, 4)', eight),
      npy('<f8', false, '(3, 4)', eight),
      Buffer.from('not a npy file'),
    ]) {
      expect(() => decodeNpy(bytes)).toThrow(
        expect.objectContaining({ code: 'GANFORGE_ERR_METRIC_INPUT' }),
      );
    }
    const text = path.join(dir, 'features.csv');
    await writeFile(text, '1,2');
    for (const file of [dir, text, path.join(dir, 'missing.npy')]) {
      await expect(readFeatureFile(file)).rejects.toMatchObject({
        code: 'GANFORGE_ERR_METRIC_INPUT',
      });
    }
  });
});
