import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatherImages } from '../../src/data/batches.js';
import { loadMnist } from '../../src/data/mnist.js';
import { initEngine } from '../../src/gan/engine.js';
import { Random } from '../../src/gan/random.js';
import { classifierParameterValues } from '../../src/metrics/extractors/classifier-network.js';
import {
  classifierDir,
  classifierWeightsSha256,
  loadClassifier,
  trainAndStoreClassifier,
  type ClassifierManifest,
} from '../../src/metrics/extractors/classifier-store.js';
import { trainClassifier } from '../../src/metrics/extractors/classifier-training.js';
import {
  loadFeatureExtractor,
  realFeatures,
  realStatistics,
  type FeatureExtractor,
} from '../../src/metrics/extractors/index.js';
import type { FeatureMatrix } from '../../src/metrics/feature-matrix.js';
import {
  frechetDistance,
  frechetDistanceFromStatistics,
} from '../../src/metrics/frechet-distance.js';
import { inceptionScore } from '../../src/metrics/inception-score.js';
import { shortClassifierRecipe } from '../helpers/classifier-recipe.js';

let cacheDir: string;

beforeAll(async () => {
  await initEngine('wasm');
  cacheDir = await mkdtemp(join(tmpdir(), 'ganforge-classifier-'));
});

afterAll(() => rm(cacheDir, { recursive: true, force: true }));

const shortRun = shortClassifierRecipe;

describe('classifier training', () => {
  it('gives bit-identical weights for one seed and different ones for another', async () => {
    const train = await loadMnist('train');
    const hashOf = async (seed: number) => {
      const params = await trainClassifier(train, 10, { ...shortRun, seed });
      const values = await classifierParameterValues(params);
      tf.dispose(params.variables);
      return classifierWeightsSha256(values);
    };
    const first = await hashOf(11);
    expect(await hashOf(11)).toBe(first);
    expect(await hashOf(12)).not.toBe(first);
  });

  it('stores one classifier when two first uses in this process race', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ganforge-race-'));
    const logged: string[] = [];
    const context = { cacheDir: dir, log: (msg: string) => logged.push(msg) };
    try {
      const recipe = { ...shortRun, seed: 3 };
      const [a, b] = await Promise.all([
        trainAndStoreClassifier('mnist', context, recipe),
        trainAndStoreClassifier('mnist', context, recipe),
      ]);
      expect(b.sha256).toBe(a.sha256);
      expect(logged.filter((msg) => msg === 'training the classifier')).toHaveLength(1);
      const files = await readdir(classifierDir(dir, 'mnist'));
      expect(files.sort()).toEqual([`weights-${a.sha256}.bin`, 'manifest.json'].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Runs loadClassifier with the short recipe in a child process; resolves to the hash it got. */
function loadInChildProcess(cacheDir: string, seed: number): Promise<string> {
  const script = `
    import { initEngine } from './src/gan/engine.ts';
    import { loadClassifier } from './src/metrics/extractors/classifier-store.ts';
    await initEngine('wasm');
    const recipe = { ...${JSON.stringify(shortRun)}, seed: ${seed} };
    const { manifest } = await loadClassifier('mnist', { cacheDir: ${JSON.stringify(cacheDir)} }, recipe);
    console.log(manifest.sha256);
  `;
  return new Promise((resolve, reject) => {
    execFile(
      'npx',
      ['tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout) => (err ? reject(err) : resolve(stdout.trim().split('\n').pop() as string)),
    );
  });
}

describe('a stored classifier', () => {
  it('exists only for a built-in dataset', async () => {
    await expect(
      loadFeatureExtractor({ kind: 'classifier', datasetId: '../mnist' }, { cacheDir }),
    ).rejects.toMatchObject({ code: 'GANFORGE_ERR_UNKNOWN_DATASET' });
  });

  it('stays whole when two processes train it at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ganforge-processes-'));
    try {
      const hashes = await Promise.all([loadInChildProcess(dir, 6), loadInChildProcess(dir, 6)]);
      expect(hashes[1]).toBe(hashes[0]);
      const files = await readdir(classifierDir(dir, 'mnist'));
      expect(files.sort()).toEqual([`weights-${hashes[0]}.bin`, 'manifest.json'].sort());

      const logged: string[] = [];
      const stored = await loadClassifier('mnist', { cacheDir: dir, log: (m) => logged.push(m) });
      tf.dispose(stored.params.variables);
      expect(stored.manifest.sha256).toBe(hashes[0]);
      expect(logged).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is trained again when its weights no longer match their hash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ganforge-corrupt-'));
    const logged: string[] = [];
    const context = { cacheDir: dir, log: (msg: string) => logged.push(msg) };
    const recipe = { ...shortRun, seed: 4 };
    try {
      const stored = await trainAndStoreClassifier('mnist', context, recipe);
      const weightsPath = join(classifierDir(dir, 'mnist'), stored.weightsFile);
      const weights = await readFile(weightsPath);
      weights[100] ^= 0xff;
      await writeFile(weightsPath, weights);

      const reloaded = await loadClassifier('mnist', context, recipe);
      tf.dispose(reloaded.params.variables);
      expect(logged).toContain('stored classifier unusable, training it again');
      expect(reloaded.manifest.sha256).toBe(stored.sha256);
      expect(await readFile(weightsPath)).not.toEqual(weights);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the stored MNIST classifier (trained once for this file)', () => {
  let extractor: FeatureExtractor;
  let manifest: ClassifierManifest;
  let test: Awaited<ReturnType<typeof loadMnist>>;

  beforeAll(async () => {
    extractor = await loadFeatureExtractor(
      { kind: 'classifier', datasetId: 'mnist' },
      { cacheDir },
    );
    const dir = classifierDir(cacheDir, 'mnist');
    manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as ClassifierManifest;
    test = await loadMnist('test');
  }, 600_000);

  afterAll(() => extractor?.dispose());

  it('is stored with the hash of its weights file and its test accuracy', async () => {
    const weights = await readFile(join(classifierDir(cacheDir, 'mnist'), manifest.weightsFile));
    expect(createHash('sha256').update(weights).digest('hex')).toBe(manifest.sha256);
    expect(extractor.sha256).toBe(manifest.sha256);
    expect(extractor.name).toBe('classifier-mnist');
    expect(extractor.resize).toBe('center-crop-28');
    console.log(
      `classifier-mnist: ${manifest.trainSeconds} s, accuracy ${manifest.testAccuracy}, ${manifest.sha256}`,
    );
  });

  it('classifies at least 99% of the MNIST test set correctly', async () => {
    const { probabilities } = await realFeatures(extractor, 'mnist', 'test', test.count, {
      cacheDir,
    });
    const p = probabilities as FeatureMatrix;
    let correct = 0;
    for (let i = 0; i < p.rows; i++) {
      const row = Array.from(p.data.subarray(i * p.cols, (i + 1) * p.cols));
      if (row.indexOf(Math.max(...row)) === test.labels[i]) correct++;
    }
    expect(correct / test.count).toBe(manifest.testAccuracy);
    expect(correct / test.count).toBeGreaterThanOrEqual(0.99);
  });

  it('is read back from disk by a later load, without training', async () => {
    const logged: string[] = [];
    const again = await loadFeatureExtractor(
      { kind: 'classifier', datasetId: 'mnist' },
      { cacheDir, log: (msg) => logged.push(msg) },
    );
    again.dispose();
    expect(again.sha256).toBe(extractor.sha256);
    expect(logged).toEqual([]);
  });

  it('sees a 32x32 padded image exactly as its 28x28 original (center crop)', async () => {
    const indices = Uint32Array.from([0, 1, 2, 3]);
    const small = tf.tensor4d(gatherImages(test, indices), [4, 28, 28, 1]);
    const padded = tf.tensor4d(gatherImages(test, indices, 32), [4, 32, 32, 1]);
    const [a, b] = [await extractor.extract(small), await extractor.extract(padded)];
    tf.dispose([small, padded]);
    expect(b.features).toEqual(a.features);
    expect(b.probabilities).toEqual(a.probabilities);
  });

  it('scores real data as real: small FID between MNIST splits, IS near 10', async () => {
    const context = { cacheDir };
    const testStats = await realStatistics(extractor, 'mnist', 'test', 10000, context);
    const trainStats = await realStatistics(extractor, 'mnist', 'train', 10000, context);
    const { fid: realFid } = await frechetDistanceFromStatistics(trainStats, testStats);

    const rng = new Random(5);
    const noise = tf.tensor4d(
      Float32Array.from({ length: 2000 * 28 * 28 }, () => rng.next() * 2 - 1),
      [2000, 28, 28, 1],
    );
    const noiseFeatures = await extractor.extract(noise);
    noise.dispose();
    const { features: testFeatures, probabilities } = await realFeatures(
      extractor,
      'mnist',
      'test',
      10000,
      context,
    );
    const { fid: noiseFid } = await frechetDistance(testFeatures, noiseFeatures.features);
    const score = inceptionScore(probabilities as FeatureMatrix, { splits: 10 });
    console.log(`FID(train 10k, test) ${realFid}, FID(test, noise) ${noiseFid}, IS ${score.mean}`);

    // Measured with the stored recipe (seed 1, wasm): 1.8, 417 and 9.70 +- 0.12. Two samples of
    // one distribution differ by far less than digits differ from uniform noise, and a 99%
    // classifier is confident and spreads the test set evenly over the 10 classes.
    expect(realFid).toBeLessThan(5);
    expect(noiseFid).toBeGreaterThan(100);
    expect(score.mean).toBeGreaterThan(9.5);
    expect(score.mean).toBeLessThanOrEqual(10);
  });
});
