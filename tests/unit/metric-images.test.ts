import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runMetric, type MetricName, type MetricOptions } from '../../src/cli/metric-command.js';
import { loadConfig } from '../../src/config.js';
import { loadMnist, type ImageDataset } from '../../src/data/mnist.js';
import { initEngine } from '../../src/gan/engine.js';
import { Random } from '../../src/gan/random.js';
import {
  loadFeatureExtractor,
  trainAndStoreClassifier,
  type ClassifierManifest,
} from '../../src/metrics/extractors/index.js';
import { frechetDistance } from '../../src/metrics/frechet-distance.js';
import { parzenLogLikelihood } from '../../src/metrics/parzen-window.js';
import { shortClassifierRecipe } from '../helpers/classifier-recipe.js';
import { writeStandIn } from '../helpers/inception-stand-in.js';

const side = 28;
const setSize = 200;
const dir = await mkdtemp(path.join(os.tmpdir(), 'ganforge-metric-images-'));
const cacheDir = path.join(dir, 'cache');
const config = loadConfig({
  GANFORGE_BACKEND: 'wasm',
  GANFORGE_EXTRACTOR_CACHE_DIR: cacheDir,
  GANFORGE_INCEPTION_MODEL_DIR: path.join(dir, 'no-inception-here'),
});
const defaults: MetricOptions = { a: '', splits: 1, subsets: 2, seed: 0, k: 3, json: true };

let test: ImageDataset;
let manifest: ClassifierManifest;
/** 0-255 pixels of the first two sets of MNIST test digits and of uniform noise. */
let digitsA: Uint8Array;
let digitsB: Uint8Array;
let noise: Uint8Array;

beforeAll(async () => {
  await initEngine('wasm');
  // 4,096 training images instead of the recipe's 512: confident enough for IS to tell digits
  // from noise, and still a few seconds.
  manifest = await trainAndStoreClassifier(
    'mnist',
    { cacheDir },
    { ...shortClassifierRecipe, trainCount: 4096, seed: 21 },
  );
  test = await loadMnist('test');
  const bytes = (first: number) =>
    Uint8Array.from(
      test.images.subarray(first * side * side, (first + setSize) * side * side),
      (v) => Math.round((v + 1) * 127.5),
    );
  digitsA = bytes(0);
  digitsB = bytes(setSize);
  const random = new Random(4);
  noise = Uint8Array.from({ length: setSize * side * side }, () => random.nextInt(256));
}, 120_000);

afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** Writes each image as a PNG, grayscale or RGBA with R = G = B and opaque alpha. */
async function pngFolder(name: string, pixels: Uint8Array, rgba = false): Promise<string> {
  const folder = path.join(dir, name);
  await mkdir(folder);
  const size = side * side;
  for (let i = 0; i < pixels.length / size; i++) {
    const gray = pixels.subarray(i * size, (i + 1) * size);
    const colorType = rgba ? 6 : 0;
    const png = new PNG({ width: side, height: side, colorType, inputColorType: colorType });
    png.data = rgba
      ? Buffer.from(
          Uint8Array.from({ length: size * 4 }, (_, k) => (k % 4 === 3 ? 255 : gray[k >> 2])),
        )
      : Buffer.from(gray);
    const bytes = PNG.sync.write(png, {
      colorType,
      inputColorType: colorType,
      inputHasAlpha: rgba,
    });
    await writeFile(path.join(folder, `${String(i).padStart(4, '0')}.png`), bytes);
  }
  return folder;
}

/** A .npy of `values` with NumPy type `descr` and shape `shape` (C order). */
async function npyFile(
  name: string,
  descr: string,
  shape: number[],
  data: Uint8Array,
): Promise<string> {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  prefix.writeUInt16LE(header.length, 8);
  const target = path.join(dir, name);
  await writeFile(target, Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]));
  return target;
}

/** Runs the command; returns its exit code, its JSON result and what it printed. */
async function metric(name: MetricName, options: Partial<MetricOptions>, settings = config) {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  const code = await runMetric(name, { ...defaults, ...options }, settings);
  const printed = log.mock.calls.map((call) => String(call[0]));
  const errors = error.mock.calls.map((call) => String(call[0]));
  vi.restoreAllMocks();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the printed JSON, checked by the tests
  const result: any = options.json === false || code !== 0 ? null : JSON.parse(printed[0]);
  return { code, result, printed, errors };
}

describe('ganforge metric on image sets', () => {
  let folderA: string;
  let folderB: string;
  let folderNoise: string;

  beforeAll(async () => {
    folderA = await pngFolder('digits-a', digitsA);
    folderB = await pngFolder('digits-b', digitsB, true);
    folderNoise = await pngFolder('noise', noise);
  });

  it('gives FID ~0 for a set against itself, and far less between digits than against noise', async () => {
    const same = await metric('fid', { a: folderA, b: folderA, dataset: 'mnist' });
    const digits = await metric('fid', { a: folderA, b: folderB, dataset: 'mnist' });
    const againstNoise = await metric('fid', { a: folderA, b: folderNoise, dataset: 'mnist' });

    expect(same.code).toBe(0);
    expect(Math.abs(same.result.fid)).toBeLessThan(1e-6);
    expect(digits.result.fid).toBeGreaterThan(1e-3);
    expect(digits.result.fid * 10).toBeLessThan(againstNoise.result.fid);
    expect(digits.result.protocol).toEqual({
      extractor: 'classifier',
      extractorName: 'classifier-mnist',
      extractorSha256: manifest.sha256,
      resize: 'center-crop-28',
      images: { a: setSize, b: setSize },
    });
  });

  it('equals the FID of the same images extracted directly, from PNGs and from .npy', async () => {
    const extractor = await loadFeatureExtractor(
      { kind: 'classifier', datasetId: 'mnist' },
      { cacheDir },
    );
    const features = async (first: number) => {
      const pixels = test.images.slice(first * side * side, (first + setSize) * side * side);
      const images = tf.tensor4d(pixels, [setSize, side, side, 1]);
      const { features } = await extractor.extract(images);
      images.dispose();
      return features;
    };
    const direct = await frechetDistance(await features(0), await features(setSize));
    extractor.dispose();

    const fromPng = await metric('fid', { a: folderA, b: folderB, dataset: 'mnist' });
    const uint8Npy = await npyFile('digits-a.npy', '|u1', [setSize, side, side], digitsA);
    const fromNpy = await metric('fid', { a: uint8Npy, b: folderB, dataset: 'mnist' });
    // The same digits as float64 RGB in [0, 1]: gray, so one channel again.
    const rgb = Float64Array.from(
      { length: digitsB.length * 3 },
      (_, k) => digitsB[Math.floor(k / 3)] / 255,
    );
    const floatNpy = await npyFile(
      'digits-b.npy',
      '<f8',
      [setSize, side, side, 3],
      new Uint8Array(rgb.buffer),
    );
    const fromFloatNpy = await metric('fid', { a: uint8Npy, b: floatNpy, dataset: 'mnist' });

    expect(Math.abs(fromPng.result.fid - direct.fid) / direct.fid).toBeLessThan(1e-9);
    expect(fromNpy.result.fid).toBe(fromPng.result.fid);
    expect(Math.abs(fromFloatNpy.result.fid - direct.fid) / direct.fid).toBeLessThan(1e-9);
  });

  it('scores real digits above noise on the Inception Score', async () => {
    const digits = await metric('is', { a: folderA, dataset: 'mnist' });
    const random = await metric('is', { a: folderNoise, dataset: 'mnist' });

    expect(digits.code).toBe(0);
    expect(digits.result.mean).toBeGreaterThan(2 * random.result.mean);
  });

  it('takes pixels in [0, 1] for parzen, with no extractor', async () => {
    const out = await metric('parzen', { a: folderA, b: folderB, sigma: 0.2 });
    const unit = (pixels: Uint8Array) => ({
      rows: setSize,
      cols: side * side,
      data: Float64Array.from(pixels, (v) => v / 255),
    });
    const expected = parzenLogLikelihood(unit(digitsA), unit(digitsB), 0.2);

    expect(out.result.mean).toBeCloseTo(expected.mean, 9);
    expect(out.result.protocol).toMatchObject({ extractor: 'pixels', extractorName: null });
  });

  it('prints the extractor with its hash prefix and the resize', async () => {
    const out = await metric('fid', { a: folderA, b: folderB, dataset: 'mnist', json: false });

    expect(out.printed[0]).toMatch(/^FID \d/);
    expect(out.printed[0]).toContain(
      `extractor classifier-mnist (sha256 ${manifest.sha256.slice(0, 12)}), resize center-crop-28`,
    );
  });

  it('refuses bad image sets with a coded error, exit status 2 and nothing printed', async () => {
    const empty = path.join(dir, 'empty');
    await mkdir(empty);
    const withText = await pngFolder('with-text', digitsA.subarray(0, 3 * side * side));
    await writeFile(path.join(withText, 'notes.txt'), 'not an image');
    const corrupt = path.join(dir, 'corrupt');
    await mkdir(corrupt);
    await writeFile(path.join(corrupt, 'broken.png'), 'not a PNG stream');
    const mixed = await pngFolder('mixed', digitsA.subarray(0, 3 * side * side));
    const large = new PNG({ width: 32, height: 32 });
    await writeFile(path.join(mixed, 'large.png'), PNG.sync.write(large));
    const outOfRange = await npyFile(
      'wide.npy',
      '<f4',
      [1, 2, 2],
      new Uint8Array(new Float32Array([0, 1, 255, 0]).buffer),
    );
    const features = path.join(dir, 'features.json');
    await writeFile(
      features,
      JSON.stringify([
        [1, 2],
        [3, 4],
        [5, 7],
      ]),
    );

    const cases: [MetricName, Partial<MetricOptions>, string][] = [
      ['fid', { a: empty, b: folderA, dataset: 'mnist' }, 'GANFORGE_ERR_METRIC_INPUT'],
      ['fid', { a: withText, b: folderA, dataset: 'mnist' }, 'GANFORGE_ERR_METRIC_INPUT'],
      ['fid', { a: corrupt, b: folderA, dataset: 'mnist' }, 'GANFORGE_ERR_METRIC_INPUT'],
      ['fid', { a: mixed, b: folderA, dataset: 'mnist' }, 'GANFORGE_ERR_METRIC_INPUT'],
      ['fid', { a: outOfRange, b: folderA, dataset: 'mnist' }, 'GANFORGE_ERR_METRIC_INPUT'],
      ['fid', { a: features, b: folderA, dataset: 'mnist' }, 'GANFORGE_ERR_METRIC_INPUT'],
      ['fid', { a: folderA, b: folderB }, 'GANFORGE_ERR_METRIC_INPUT'],
      ['fid', { a: folderA, b: folderB, dataset: 'cifar' }, 'GANFORGE_ERR_UNKNOWN_DATASET'],
      [
        'fid',
        { a: folderA, b: folderB, extractor: 'inception' },
        'GANFORGE_ERR_EXTRACTOR_UNAVAILABLE',
      ],
    ];
    for (const [name, options, code] of cases) {
      const out = await metric(name, options);
      expect(out.code, `${JSON.stringify(options)}`).toBe(2);
      expect(out.errors.at(-1)).toMatch(new RegExp(`^${code}:`));
      expect(out.printed).toEqual([]);
    }
  });

  it('uses Inception-v3 with --extractor inception, which has no probabilities for IS', async () => {
    const standIn = await writeStandIn(path.join(dir, 'inception-v3'), 2048, 9);
    const withInception = { ...config, inceptionModelDir: standIn.dir };
    const count = 12;
    const small = (pixels: Uint8Array) => pixels.subarray(0, count * side * side);
    const a = await pngFolder('inception-a', small(digitsA));
    const b = await pngFolder('inception-b', small(digitsB), true);
    const extractor = await loadFeatureExtractor(
      { kind: 'inception', datasetId: '' },
      { cacheDir, inceptionModelDir: standIn.dir },
    );
    const features = async (first: number) => {
      const pixels = test.images.slice(first * side * side, (first + count) * side * side);
      const images = tf.tensor4d(pixels, [count, side, side, 1]);
      const { features } = await extractor.extract(images);
      images.dispose();
      return features;
    };
    const direct = await frechetDistance(await features(0), await features(setSize));
    extractor.dispose();

    const fid = await metric('fid', { a, b, extractor: 'inception' }, withInception);
    const is = await metric('is', { a, extractor: 'inception' }, withInception);

    expect(Math.abs(fid.result.fid - direct.fid) / direct.fid).toBeLessThan(1e-9);
    expect(fid.result.protocol).toEqual({
      extractor: 'inception',
      extractorName: 'inception-v3-pool3',
      extractorSha256: standIn.shardSha256,
      resize: 'bilinear-299',
      images: { a: count, b: count },
    });
    expect(is.code).toBe(2);
    expect(is.errors.at(-1)).toMatch(/^GANFORGE_ERR_METRIC_UNSUPPORTED:/);
    expect(is.printed).toEqual([]);
  });
});
