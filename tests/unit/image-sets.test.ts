import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpyHeader } from '../../src/metrics/feature-files.js';
import {
  decodeImageNpy,
  extractorInput,
  readPngDirectory,
  unitPixels,
} from '../../src/metrics/image-sets.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'ganforge-image-sets-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A 1x2 RGBA PNG of the two given pixels. */
async function rgbaPng(folder: string, name: string, pixels: number[]): Promise<void> {
  const png = new PNG({ width: 2, height: 1 });
  png.data = Buffer.from(pixels);
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, name), PNG.sync.write(png));
}

function npy(descr: string, shape: string, data: ArrayBufferView, fortran = false): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  prefix.writeUInt16LE(header.length, 8);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), bytes]);
}

const decode = (bytes: Buffer) => decodeImageNpy(bytes, readNpyHeader(bytes), 'test.npy');

describe('image sets', () => {
  it('composites alpha over black and keeps colour PNGs as three channels', async () => {
    const folder = path.join(dir, 'colour');
    await rgbaPng(folder, 'a.png', [200, 100, 50, 128, 10, 20, 30, 255]);
    const set = await readPngDirectory(folder);

    expect(set).toMatchObject({ count: 1, height: 1, width: 2, channels: 3 });
    // 200 * 128 / 255 = 100.4, 100 * 128 / 255 = 50.2, 50 * 128 / 255 = 25.1.
    expect([...set.pixels]).toEqual([100, 50, 25, 10, 20, 30]);
    const luma = (r: number, g: number, b: number) =>
      (0.299 * r + 0.587 * g + 0.114 * b) / 127.5 - 1;
    expect([...extractorInput(set, true)]).toEqual(
      [luma(100, 50, 25), luma(10, 20, 30)].map(Math.fround),
    );
    expect([...extractorInput(set, false)]).toEqual(
      [100, 50, 25, 10, 20, 30].map((v) => Math.fround(v / 127.5 - 1)),
    );
  });

  it('takes RGB PNGs whose pixels are all gray as one channel', async () => {
    const folder = path.join(dir, 'gray');
    await rgbaPng(folder, 'a.png', [0, 0, 0, 255, 255, 255, 255, 255]);
    await rgbaPng(folder, 'b.png', [7, 7, 7, 255, 128, 128, 128, 255]);
    const set = await readPngDirectory(folder);

    expect(set).toMatchObject({ count: 2, channels: 1 });
    expect([...set.pixels]).toEqual([0, 255, 7, 128]);
    expect([...unitPixels(set).data]).toEqual([0, 1, 7 / 255, 128 / 255]);
  });

  it('reads uint8 and float image arrays, 3-D or 4-D', () => {
    const bytes = decode(npy('|u1', '(2, 1, 2)', new Uint8Array([0, 255, 51, 102])));
    const floats = decode(npy('<f4', '(1, 2, 2, 1)', new Float32Array([0, 0.25, 0.5, 1])));

    expect(bytes).toMatchObject({ count: 2, height: 1, width: 2, channels: 1 });
    expect([...extractorInput(bytes, true)]).toEqual(
      [-1, 1, 51 / 127.5 - 1, 102 / 127.5 - 1].map(Math.fround),
    );
    expect(floats).toMatchObject({ count: 1, height: 2, width: 2, channels: 1 });
    expect([...extractorInput(floats, true)]).toEqual([-1, -0.5, 0, 1]);
    expect([...unitPixels(floats).data]).toEqual([0, 0.25, 0.5, 1]);
  });

  it('refuses float values outside [0, 1], other shapes and types, Fortran order and no images', () => {
    const bad = [
      npy('<f8', '(1, 1, 2)', new Float64Array([0.5, 255])),
      npy('<f4', '(1, 1, 1)', new Float32Array([NaN])),
      npy('|u1', '(1, 1, 1, 2)', new Uint8Array(2)),
      npy('<i4', '(1, 1, 1)', new Int32Array(1)),
      npy('|u1', '(1, 1, 2)', new Uint8Array(2), true),
      npy('|u1', '(0, 2, 2)', new Uint8Array(0)),
      npy('|u1', '(2, 2, 2)', new Uint8Array(3)),
    ];
    for (const bytes of bad) {
      expect(() => decode(bytes)).toThrow(
        expect.objectContaining({ code: 'GANFORGE_ERR_METRIC_INPUT' }),
      );
    }
  });
});
