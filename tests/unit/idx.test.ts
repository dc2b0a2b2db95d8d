import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { getDataset } from '../../src/data/datasets.js';
import { parseIdx, readIdxFile } from '../../src/data/idx.js';
import { loadIdxImageSet, loadMnist } from '../../src/data/mnist.js';
import { GanforgeError } from '../../src/errors.js';

function idxHeader(dtypeByte: number, dims: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = dtypeByte;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return header;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof GanforgeError ? err.code : 'not a GanforgeError';
  }
  return undefined;
}

describe('parseIdx', () => {
  const bytes = Buffer.concat([
    idxHeader(0x08, [2, 2, 3]),
    Buffer.from([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]),
  ]);

  it('reads uint8 dims and values', () => {
    const idx = parseIdx(bytes);
    expect(idx.dtype).toBe('uint8');
    expect(idx.dims).toEqual([2, 2, 3]);
    expect(Array.from(idx.data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  });

  it('reads gzip-compressed input', () => {
    const idx = parseIdx(gzipSync(bytes));
    expect(idx.dims).toEqual([2, 2, 3]);
    expect(idx.data[11]).toBe(255);
  });

  it('reads big-endian int16, int32, float32 and float64', () => {
    const i16 = Buffer.alloc(4);
    i16.writeInt16BE(-2, 0);
    i16.writeInt16BE(300, 2);
    expect(Array.from(parseIdx(Buffer.concat([idxHeader(0x0b, [2]), i16])).data)).toEqual([
      -2, 300,
    ]);

    const i32 = Buffer.alloc(4);
    i32.writeInt32BE(-70000, 0);
    expect(Array.from(parseIdx(Buffer.concat([idxHeader(0x0c, [1]), i32])).data)).toEqual([-70000]);

    const f32 = Buffer.alloc(8);
    f32.writeFloatBE(1.5, 0);
    f32.writeFloatBE(-0.25, 4);
    const f = parseIdx(Buffer.concat([idxHeader(0x0d, [1, 2]), f32]));
    expect(f.dtype).toBe('float32');
    expect(Array.from(f.data)).toEqual([1.5, -0.25]);

    const f64 = Buffer.alloc(8);
    f64.writeDoubleBE(Math.PI, 0);
    expect(parseIdx(Buffer.concat([idxHeader(0x0e, [1]), f64])).data[0]).toBe(Math.PI);
  });

  it('rejects bad files with GANFORGE_ERR_DATASET_CORRUPT', () => {
    const badMagic = Buffer.from(bytes);
    badMagic[0] = 1;
    expect(codeOf(() => parseIdx(badMagic))).toBe('GANFORGE_ERR_DATASET_CORRUPT');

    const badDtype = Buffer.from(bytes);
    badDtype[2] = 0x07;
    expect(codeOf(() => parseIdx(badDtype))).toBe('GANFORGE_ERR_DATASET_CORRUPT');

    expect(codeOf(() => parseIdx(bytes.subarray(0, bytes.length - 1)))).toBe(
      'GANFORGE_ERR_DATASET_CORRUPT',
    );
    expect(codeOf(() => parseIdx(Buffer.concat([bytes, Buffer.from([0])])))).toBe(
      'GANFORGE_ERR_DATASET_CORRUPT',
    );
    expect(codeOf(() => parseIdx(bytes.subarray(0, 10)))).toBe('GANFORGE_ERR_DATASET_CORRUPT');
    expect(codeOf(() => parseIdx(gzipSync(bytes).subarray(0, 20)))).toBe(
      'GANFORGE_ERR_DATASET_CORRUPT',
    );
    expect(codeOf(() => parseIdx(Buffer.from([0, 0])))).toBe('GANFORGE_ERR_DATASET_CORRUPT');
  });

  it('reports a missing file as GANFORGE_ERR_DATASET_UNAVAILABLE', async () => {
    await expect(readIdxFile('/nonexistent/train-images-idx3-ubyte')).rejects.toMatchObject({
      code: 'GANFORGE_ERR_DATASET_UNAVAILABLE',
    });
  });
});

describe('MNIST-format image sets', () => {
  it('scales pixels to [-1, 1] and checks images against labels', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ganforge-idx-'));
    const images = join(dir, 'images.gz');
    const labels = join(dir, 'labels');
    const badLabels = join(dir, 'bad-labels');
    await writeFile(
      images,
      gzipSync(Buffer.concat([idxHeader(0x08, [2, 1, 2]), Buffer.from([0, 255, 51, 204])])),
    );
    await writeFile(labels, Buffer.concat([idxHeader(0x08, [2]), Buffer.from([7, 3])]));
    await writeFile(badLabels, Buffer.concat([idxHeader(0x08, [3]), Buffer.from([7, 3, 1])]));

    const set = await loadIdxImageSet({ images, labels });
    expect(set).toMatchObject({ count: 2, height: 1, width: 2, channels: 1 });
    expect(Array.from(set.images)).toEqual(
      [-1, 1, 51 / 127.5 - 1, 204 / 127.5 - 1].map(Math.fround),
    );
    expect(Array.from(set.labels)).toEqual([7, 3]);

    await expect(loadIdxImageSet({ images, labels: badLabels })).rejects.toMatchObject({
      code: 'GANFORGE_ERR_DATASET_CORRUPT',
    });
    await expect(loadIdxImageSet({ images, labels }, 5)).resolves.toBe(set);
  });

  it('loads the real MNIST train and test splits', async () => {
    const [train, test] = await Promise.all([loadMnist('train'), loadMnist('test')]);
    for (const [set, count] of [
      [train, 60000],
      [test, 10000],
    ] as const) {
      expect(set).toMatchObject({ count, height: 28, width: 28, channels: 1 });
      expect(set.images.length).toBe(count * 28 * 28);
      expect(set.labels.length).toBe(count);
      let min = Infinity;
      let max = -Infinity;
      for (const v of set.images) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      expect(min).toBe(-1);
      expect(max).toBe(1);
      expect(Math.max(...set.labels)).toBe(9);
    }
    // The first training digit of MNIST is a 5, the first test digit a 7.
    expect(train.labels[0]).toBe(5);
    expect(test.labels[0]).toBe(7);
    expect(await loadMnist('train')).toBe(train);
  });

  it('finds datasets by name and rejects unknown names', () => {
    expect(getDataset('mnist').shape).toEqual({ height: 28, width: 28, channels: 1 });
    expect(codeOf(() => getDataset('cifar-1000'))).toBe('GANFORGE_ERR_UNKNOWN_DATASET');
    expect(codeOf(() => getDataset('toString'))).toBe('GANFORGE_ERR_UNKNOWN_DATASET');
  });
});
