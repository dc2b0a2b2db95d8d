/**
 * The sample sets of `ganforge metric`: feature or probability files as they are, or sets of
 * images (a PNG folder or a 3-D/4-D .npy) through a feature extractor, with the protocol that
 * says how their rows were made. The Parzen window takes pixels in [0, 1] instead.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config.js';
import { getDataset } from '../data/datasets.js';
import { GanforgeError } from '../errors.js';
import { initEngine } from '../gan/engine.js';
import { loadFeatureExtractor, type FeatureExtractor } from '../metrics/extractors/index.js';
import { decodeNpy, readFeatureFile, readNpyHeader } from '../metrics/feature-files.js';
import type { FeatureMatrix } from '../metrics/feature-matrix.js';
import {
  decodeImageNpy,
  extractorInput,
  readPngDirectory,
  unitPixels,
  type ImageSet,
} from '../metrics/image-sets.js';

export type ExtractorKind = 'classifier' | 'inception';
export const extractorKinds: readonly ExtractorKind[] = ['classifier', 'inception'];

/** The sets a metric reads, by flag: --a always, --b and --valid when the metric uses them. */
export type SetFlag = 'a' | 'b' | 'valid';

export interface InputOptions {
  extractor?: ExtractorKind;
  dataset?: string;
}

/** How image sets became rows, in the terms of a stored evaluation's protocol. */
export interface ImageProtocol {
  extractor: ExtractorKind | 'pixels';
  extractorName: string | null;
  extractorSha256: string | null;
  resize: string;
  /** Images per set, by flag. */
  images: Partial<Record<SetFlag, number>>;
}

export interface SampleSets {
  rows: Partial<Record<SetFlag, FeatureMatrix>>;
  /** Set for image input only. */
  protocol?: ImageProtocol;
}

type Input = { kind: 'features'; matrix: FeatureMatrix } | { kind: 'images'; set: ImageSet };

/**
 * Reads the files at `paths` (all features or all images) and, for images, extracts the rows the
 * metric takes: probabilities for `is`, pixels for `parzen`, features otherwise.
 */
export async function readSampleSets(
  metric: string,
  paths: Partial<Record<SetFlag, string>>,
  options: InputOptions,
  config: Config,
): Promise<SampleSets> {
  const flags = (Object.keys(paths) as SetFlag[]).filter((flag) => paths[flag] !== undefined);
  const inputs = new Map<SetFlag, Input>();
  for (const flag of flags) inputs.set(flag, await readInput(paths[flag] as string));

  const features: SampleSets['rows'] = {};
  const sets = new Map<SetFlag, ImageSet>();
  for (const [flag, input] of inputs) {
    if (input.kind === 'features') features[flag] = input.matrix;
    else sets.set(flag, input.set);
  }
  if (sets.size > 0 && sets.size < inputs.size) {
    throw inputError('one metric compares images with images or features with features, not both');
  }
  if (sets.size === 0) {
    if (options.extractor !== undefined || options.dataset !== undefined) {
      throw inputError('--extractor and --dataset apply to image sets, not to feature files');
    }
    return { rows: features };
  }

  const images = Object.fromEntries([...sets].map(([flag, set]) => [flag, set.count]));
  if (metric === 'parzen') {
    if (options.extractor !== undefined || options.dataset !== undefined) {
      throw inputError('parzen compares pixels in [0, 1]: --extractor and --dataset do not apply');
    }
    const protocol = { extractor: 'pixels' as const, extractorName: null, extractorSha256: null };
    return {
      rows: Object.fromEntries([...sets].map(([flag, set]) => [flag, unitPixels(set)])),
      protocol: { ...protocol, resize: 'none', images },
    };
  }

  const kind = options.extractor ?? 'classifier';
  if (kind === 'classifier' && options.dataset === undefined) {
    throw inputError('the classifier extractor needs --dataset (mnist or fashion-mnist)');
  }
  if (options.dataset !== undefined) getDataset(options.dataset);
  const log = (msg: string, fields?: object) =>
    console.error(fields ? `${msg} ${JSON.stringify(fields)}` : msg);
  await initEngine(config.backend, log);
  const extractor = await loadFeatureExtractor(
    { kind, datasetId: options.dataset ?? '' },
    { cacheDir: config.extractorCacheDir, inceptionModelDir: config.inceptionModelDir, log },
  );
  try {
    const rows: SampleSets['rows'] = {};
    for (const [flag, set] of sets) {
      rows[flag] = await extractRows(extractor, set, kind, metric === 'is');
    }
    const { name, sha256, resize } = extractor;
    return {
      rows,
      protocol: { extractor: kind, extractorName: name, extractorSha256: sha256, resize, images },
    };
  } finally {
    extractor.dispose();
  }
}

async function extractRows(
  extractor: FeatureExtractor,
  set: ImageSet,
  kind: ExtractorKind,
  probabilities: boolean,
): Promise<FeatureMatrix> {
  // The classifier sees one channel; Inception-v3 repeats a gray one itself.
  const grayscale = kind === 'classifier';
  const channels = grayscale ? 1 : set.channels;
  const images = tf.tensor4d(extractorInput(set, grayscale), [
    set.count,
    set.height,
    set.width,
    channels,
  ]);
  try {
    const extracted = await extractor.extract(images);
    if (!probabilities) return extracted.features;
    if (extracted.probabilities === null) {
      throw new GanforgeError(
        'GANFORGE_ERR_METRIC_UNSUPPORTED',
        `${extractor.name} gives no class probabilities: the Inception Score needs the classifier`,
        { extractor: extractor.name },
      );
    }
    return extracted.probabilities;
  } finally {
    images.dispose();
  }
}

/** A directory is a PNG set; a .npy with 3 or 4 dimensions an image array; the rest features. */
async function readInput(path: string): Promise<Input> {
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory()) return { kind: 'images', set: await readPngDirectory(path) };
  if (info === null || extname(path).toLowerCase() !== '.npy') {
    return { kind: 'features', matrix: await readFeatureFile(path) };
  }
  const bytes = await readFile(path);
  const header = readNpyHeader(bytes, path);
  if (header.shape.length === 3 || header.shape.length === 4) {
    return { kind: 'images', set: decodeImageNpy(bytes, header, path) };
  }
  return { kind: 'features', matrix: decodeNpy(bytes, path) };
}

function inputError(message: string): GanforgeError {
  return new GanforgeError('GANFORGE_ERR_METRIC_INPUT', message);
}
