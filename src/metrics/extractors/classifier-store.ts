/**
 * Trained classifiers on disk, one directory per dataset under the extractor cache:
 *
 *   <cacheDir>/classifiers/classifier-<dataset>/manifest.json
 *   <cacheDir>/classifiers/classifier-<dataset>/weights-<sha256>.bin   (float32, little-endian)
 *
 * The manifest names its weights file by hash and is written last, each file to a temporary name
 * and then renamed: a reader sees a complete classifier or none, and two processes training the
 * same classifier at once (each writes its own files) cannot leave a torn one behind.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getDataset } from '../../data/datasets.js';
import type { ImageDataset } from '../../data/mnist.js';
import {
  classifierArchitecture,
  classifierParametersFromValues,
  classifierParameterValues,
  type ClassifierParameters,
} from './classifier-network.js';
import {
  classifierAccuracy,
  classifierRecipeFor,
  trainClassifier,
  type ClassifierTrainingOptions,
} from './classifier-training.js';
import type { ExtractorContext } from './feature-extractor.js';
import { writeFileAtomically } from './atomic-file.js';

export interface ClassifierManifest {
  /** `classifier-<dataset>`: the extractor name stored with scores. */
  name: string;
  dataset: string;
  classes: number;
  /** sha256 of the weights file, hex. */
  sha256: string;
  weightsFile: string;
  /** Fraction of the dataset's test split classified correctly. */
  testAccuracy: number;
  trainSeconds: number;
  /** The TensorFlow.js backend it was trained on: the hash is reproducible on the same one. */
  backend: string;
  architecture: string;
  recipe: ClassifierTrainingOptions;
  createdAt: string;
}

export interface StoredClassifier {
  manifest: ClassifierManifest;
  params: ClassifierParameters;
}

export function classifierName(datasetId: string): string {
  return `classifier-${datasetId}`;
}

export function classifierDir(cacheDir: string, datasetId: string): string {
  return join(cacheDir, 'classifiers', classifierName(datasetId));
}

/** sha256 of the weights file's bytes. */
export function classifierWeightsSha256(values: Float32Array): string {
  return createHash('sha256').update(weightBytes(values)).digest('hex');
}

/** Trainings in progress in this process, so concurrent first uses train once. */
const pending = new Map<string, Promise<ClassifierManifest>>();

/**
 * The stored classifier of a dataset, trained with `recipe` and stored first when there is none,
 * or when the stored one is unreadable, fails its hash or is of another architecture.
 */
export async function loadClassifier(
  datasetId: string,
  context: ExtractorContext,
  recipe: ClassifierTrainingOptions = classifierRecipeFor(datasetId),
): Promise<StoredClassifier> {
  getDataset(datasetId); // an unknown name is refused before it becomes part of a path
  const dir = classifierDir(context.cacheDir, datasetId);
  const stored = await readStoredClassifier(dir, context);
  if (stored) return stored;
  await trainAndStoreClassifier(datasetId, context, recipe);
  const trained = await readStoredClassifier(dir, context);
  if (!trained) throw new Error(`${dir}: the classifier just stored cannot be read back`);
  return trained;
}

/**
 * Trains the dataset's classifier and stores it, replacing any stored one. A call while one for
 * the same directory is in progress in this process waits for that one instead.
 */
export function trainAndStoreClassifier(
  datasetId: string,
  context: ExtractorContext,
  recipe: ClassifierTrainingOptions = classifierRecipeFor(datasetId),
): Promise<ClassifierManifest> {
  const dir = classifierDir(context.cacheDir, datasetId);
  let training = pending.get(dir);
  if (!training) {
    training = trainAndWrite(datasetId, dir, context, recipe).finally(() => pending.delete(dir));
    pending.set(dir, training);
  }
  return training;
}

async function trainAndWrite(
  datasetId: string,
  dir: string,
  context: ExtractorContext,
  recipe: ClassifierTrainingOptions,
): Promise<ClassifierManifest> {
  const dataset = getDataset(datasetId);
  const [train, test] = await Promise.all([dataset.load('train'), dataset.load('test')]);
  const classes = classCount(train);
  const log = context.log ?? (() => {});
  log('training the classifier', { extractor: classifierName(datasetId), ...recipe });

  const started = performance.now();
  const params = await trainClassifier(train, classes, {
    ...recipe,
    onProgress: (step, steps, loss) => log('classifier training', { step, steps, loss }),
    progressEvery: 200,
  });
  try {
    const trainSeconds = (performance.now() - started) / 1000;
    const values = await classifierParameterValues(params);
    const sha256 = classifierWeightsSha256(values);
    const manifest: ClassifierManifest = {
      name: classifierName(datasetId),
      dataset: datasetId,
      classes,
      sha256,
      weightsFile: `weights-${sha256}.bin`,
      testAccuracy: await classifierAccuracy(params, test),
      trainSeconds: Math.round(trainSeconds * 10) / 10,
      backend: tf.getBackend(),
      architecture: classifierArchitecture,
      recipe: { ...recipe },
      createdAt: new Date().toISOString(),
    };
    await writeFileAtomically(join(dir, manifest.weightsFile), weightBytes(values));
    await writeFileAtomically(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    log('classifier stored', { dir, sha256, testAccuracy: manifest.testAccuracy, trainSeconds });
    return manifest;
  } finally {
    tf.dispose(params.variables);
  }
}

/** The stored classifier, or null when there is none usable (then it is trained again). */
async function readStoredClassifier(
  dir: string,
  context: ExtractorContext,
): Promise<StoredClassifier | null> {
  const manifestText = await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => null);
  if (manifestText === null) return null;
  const reject = (reason: string) => {
    context.log?.('stored classifier unusable, training it again', { dir, reason });
    return null;
  };
  let manifest: ClassifierManifest;
  try {
    manifest = JSON.parse(manifestText) as ClassifierManifest;
  } catch {
    return reject('manifest.json is not JSON');
  }
  if (typeof manifest !== 'object' || manifest === null) return reject('manifest is no object');
  if (manifest.architecture !== classifierArchitecture) return reject('another architecture');
  if (!/^weights-[0-9a-f]{64}\.bin$/.test(String(manifest.weightsFile))) {
    return reject('manifest.json names no weights file');
  }
  const bytes = await readFile(join(dir, manifest.weightsFile)).catch(() => null);
  if (bytes === null) return reject(`${manifest.weightsFile} is missing`);
  if (bytes.length % 4 !== 0) return reject('weights file of a partial float');
  const values = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
  );
  if (classifierWeightsSha256(values) !== manifest.sha256) return reject('weights hash mismatch');
  try {
    return { manifest, params: classifierParametersFromValues(manifest.classes, values) };
  } catch (err) {
    return reject((err as Error).message);
  }
}

function weightBytes(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function classCount(dataset: ImageDataset): number {
  let max = 0;
  for (const label of dataset.labels) max = Math.max(max, label);
  return max + 1;
}
