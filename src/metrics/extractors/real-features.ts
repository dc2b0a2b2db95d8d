/**
 * Features of real images, computed once per (extractor and its weights hash, dataset, split,
 * count) and cached under the extractor cache, with the FID statistics of the features next to
 * them. The real set is the first `count` images of the split, so every evaluation with the same
 * protocol compares against the same images.
 *
 *   <cacheDir>/real/<extractor name>-<sha256>/<dataset>-<split>-<count>/
 *     probabilities.npy  (when the extractor has a classifier head; written first)
 *     features.npy       (float64; written last, so its presence means the entry is complete)
 *     statistics.npy     (row 0 the mean, rows 1..d the covariance)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getDataset } from '../../data/datasets.js';
import type { DatasetSplit, ImageDataset } from '../../data/mnist.js';
import { GanforgeError } from '../../errors.js';
import { decodeNpy, encodeNpy } from '../feature-files.js';
import type { FeatureMatrix } from '../feature-matrix.js';
import { gaussianStatistics, type GaussianStatistics } from '../frechet-distance.js';
import { writeFileAtomically } from './atomic-file.js';
import type { ExtractedFeatures, ExtractorContext, FeatureExtractor } from './feature-extractor.js';

/** Real images per extract() call. */
const chunkSize = 1000;

export function realDataDir(
  extractor: FeatureExtractor,
  datasetId: string,
  split: DatasetSplit,
  count: number,
  cacheDir: string,
): string {
  return join(
    cacheDir,
    'real',
    `${extractor.name}-${extractor.sha256}`,
    `${datasetId}-${split}-${count}`,
  );
}

/** Features (and probabilities) of the first `count` images of the split, from the cache. */
export async function realFeatures(
  extractor: FeatureExtractor,
  datasetId: string,
  split: DatasetSplit,
  count: number,
  context: ExtractorContext,
): Promise<ExtractedFeatures> {
  // An unknown name is refused before it becomes part of a path.
  const entry = getDataset(datasetId);
  const dir = realDataDir(extractor, datasetId, split, count, context.cacheDir);
  const cached = await readCachedFeatures(dir, count, context);
  if (cached) return cached;

  const dataset = await entry.load(split);
  checkCount(count, dataset, datasetId, split);
  const extracted = await extractFirst(extractor, dataset, count);
  if (extracted.probabilities) {
    await writeFileAtomically(join(dir, 'probabilities.npy'), encodeNpy(extracted.probabilities));
  }
  await writeFileAtomically(join(dir, 'features.npy'), encodeNpy(extracted.features));
  context.log?.('real features cached', { dir, extractor: extractor.name, count });
  return extracted;
}

/** Mean and covariance of realFeatures(...).features, from the cache. */
export async function realStatistics(
  extractor: FeatureExtractor,
  datasetId: string,
  split: DatasetSplit,
  count: number,
  context: ExtractorContext,
): Promise<GaussianStatistics> {
  getDataset(datasetId);
  const path = join(
    realDataDir(extractor, datasetId, split, count, context.cacheDir),
    'statistics.npy',
  );
  const bytes = await readFile(path).catch(() => null);
  try {
    if (bytes) return statisticsFromMatrix(decodeNpy(bytes, path), count);
  } catch (err) {
    context.log?.('cached real statistics unusable, computing them again', {
      path,
      reason: err instanceof Error ? err.message : String(err),
    });
  }

  const { features } = await realFeatures(extractor, datasetId, split, count, context);
  const statistics = await gaussianStatistics(features);
  await writeFileAtomically(path, encodeNpy(statisticsMatrix(statistics)));
  return statistics;
}

/**
 * The cached features, or null when there are none or they are unusable (damaged outside
 * ganforge, or of another count): then they are extracted and written again.
 */
async function readCachedFeatures(
  dir: string,
  count: number,
  context: ExtractorContext,
): Promise<ExtractedFeatures | null> {
  const read = async (name: string): Promise<FeatureMatrix | null> => {
    const path = join(dir, name);
    const bytes = await readFile(path).catch(() => null);
    return bytes && decodeNpy(bytes, path);
  };
  try {
    const features = await read('features.npy');
    if (!features) return null;
    const probabilities = await read('probabilities.npy');
    for (const matrix of [features, probabilities]) {
      if (matrix && matrix.rows !== count) {
        throw new Error(`${matrix.rows} rows where ${count} were cached`);
      }
    }
    return { features, probabilities };
  } catch (err) {
    context.log?.('cached real features unusable, extracting them again', {
      dir,
      reason: err instanceof Error ? err.message : String(err),
    });
    return null;
  }
}

async function extractFirst(
  extractor: FeatureExtractor,
  dataset: ImageDataset,
  count: number,
): Promise<ExtractedFeatures> {
  const { height, width, channels } = dataset;
  const size = height * width * channels;
  const parts: ExtractedFeatures[] = [];
  for (let start = 0; start < count; start += chunkSize) {
    const n = Math.min(chunkSize, count - start);
    const images = tf.tensor4d(dataset.images.subarray(start * size, (start + n) * size), [
      n,
      height,
      width,
      channels,
    ]);
    try {
      parts.push(await extractor.extract(images));
    } finally {
      images.dispose();
    }
  }
  return {
    features: stackRows(parts.map((p) => p.features)),
    probabilities: parts[0].probabilities
      ? stackRows(parts.map((p) => p.probabilities as FeatureMatrix))
      : null,
  };
}

function stackRows(parts: FeatureMatrix[]): FeatureMatrix {
  const cols = parts[0].cols;
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const data = new Float64Array(rows * cols);
  let offset = 0;
  for (const part of parts) {
    data.set(part.data, offset);
    offset += part.data.length;
  }
  return { rows, cols, data };
}

function statisticsMatrix(s: GaussianStatistics): FeatureMatrix {
  const data = new Float64Array((s.dims + 1) * s.dims);
  data.set(s.mean);
  data.set(s.covariance, s.dims);
  return { rows: s.dims + 1, cols: s.dims, data };
}

function statisticsFromMatrix(m: FeatureMatrix, count: number): GaussianStatistics {
  const dims = m.cols;
  return {
    count,
    dims,
    mean: m.data.slice(0, dims),
    covariance: m.data.slice(dims),
  };
}

function checkCount(count: number, dataset: ImageDataset, datasetId: string, split: string): void {
  if (!Number.isInteger(count) || count < 2 || count > dataset.count) {
    throw new GanforgeError(
      'GANFORGE_ERR_METRIC_INPUT',
      `${count} real images asked of ${datasetId} ${split}, which has ${dataset.count}`,
      { dataset: datasetId, split, count, available: dataset.count },
    );
  }
}
