/**
 * Inception-v3 pool_3 features (2048-d), the extractor of standard FID (Heusel et al. 2017),
 * from a TensorFlow.js graph-model directory on local disk: model.json plus its weight shards.
 * Nothing is ever downloaded; a missing or malformed directory is GANFORGE_ERR_EXTRACTOR_UNAVAILABLE.
 *
 * Preprocessing as in the reference FID code: grayscale repeated to 3 channels, bilinear resize to
 * 299x299 with half-pixel centres (TF2's tf.image.resize, PyTorch's interpolate with
 * align_corners=False), values kept in [-1, 1], the range Keras' InceptionV3 expects.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GanforgeError } from '../../errors.js';
import type { ExtractedFeatures, FeatureExtractor } from './feature-extractor.js';
import { tensorRows } from './tensor-rows.js';

export const inceptionSide = 299;
export const inceptionFeatureDims = 2048;
/** Images per forward pass: Inception's activations at 299x299 take ~100 MB per 16 images. */
const chunkSize = 16;

/**
 * An IOHandler that reads a graph model from a directory: model.json and the shard files its
 * weights manifest names, in manifest order. Also hashes the shards (the weights' sha256).
 */
export function directoryModelHandler(dir: string): tf.io.IOHandler & { sha256(): string } {
  const hash = createHash('sha256');
  let digest: string | undefined;
  return {
    async load() {
      const modelJson = JSON.parse(
        await readFile(join(dir, 'model.json'), 'utf8'),
      ) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const shards: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const path of group.paths) {
            const bytes = await readFile(join(dir, path));
            hash.update(bytes);
            shards.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
          }
        }
        digest = hash.digest('hex');
        return [tf.io.getWeightSpecs(manifest), tf.io.concatenateArrayBuffers(shards)];
      });
    },
    sha256() {
      if (digest === undefined) throw new Error('the model has not been loaded');
      return digest;
    },
  };
}

/** Loads the graph model in `dir` and checks its signature: [N, 299, 299, 3] -> [N, 2048]. */
export async function loadInceptionExtractor(dir: string | undefined): Promise<FeatureExtractor> {
  if (!dir) {
    throw unavailable(
      'no Inception-v3 model directory is configured (GANFORGE_INCEPTION_MODEL_DIR)',
      dir,
    );
  }
  const handler = directoryModelHandler(dir);
  let model: tf.GraphModel;
  try {
    model = await tf.loadGraphModel(handler);
  } catch (err) {
    throw unavailable(
      `cannot load an Inception-v3 graph model from ${dir}: ${(err as Error).message}`,
      dir,
    );
  }
  // Converted models rarely record their output's shape, so one blank image probes it.
  const input = model.inputs[0]?.shape ?? [];
  const output = model.inputs.length === 1 ? probeOutputShape(model) : [];
  const fits =
    input.length === 4 &&
    input.slice(1, 3).every((side) => side === inceptionSide || side === -1) &&
    input[3] === 3 &&
    output.join() === `1,${inceptionFeatureDims}`;
  if (!fits) {
    model.dispose();
    throw unavailable(
      `${dir} holds a model of signature [${input}] -> [${output}], not ` +
        `[N, ${inceptionSide}, ${inceptionSide}, 3] -> [N, ${inceptionFeatureDims}]`,
      dir,
    );
  }
  return new InceptionExtractor(model, handler.sha256());
}

class InceptionExtractor implements FeatureExtractor {
  readonly name = 'inception-v3-pool3';
  readonly resize = 'bilinear-299';

  constructor(
    private readonly model: tf.GraphModel,
    readonly sha256: string,
  ) {}

  async extract(images: tf.Tensor4D): Promise<ExtractedFeatures> {
    const chunks: tf.Tensor2D[] = [];
    try {
      for (let start = 0; start < images.shape[0]; start += chunkSize) {
        const size = Math.min(chunkSize, images.shape[0] - start);
        chunks.push(
          tf.tidy(() => {
            const chunk = images.slice([start, 0, 0, 0], [size, -1, -1, -1]);
            return this.model.predict(inceptionInput(chunk)) as tf.Tensor2D;
          }),
        );
        // A chunk is a few seconds on a CPU: yield between chunks.
        await new Promise((resolve) => setImmediate(resolve));
      }
      return { probabilities: null, features: await tensorRows(chunks, inceptionFeatureDims) };
    } finally {
      tf.dispose(chunks);
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** [N, H, W, 1 or 3] in [-1, 1] -> [N, 299, 299, 3] in [-1, 1]. */
export function inceptionInput(images: tf.Tensor4D): tf.Tensor4D {
  const channels = images.shape[3];
  if (channels !== 1 && channels !== 3) {
    throw new GanforgeError(
      'GANFORGE_ERR_METRIC_INPUT',
      `Inception-v3 takes grayscale or RGB images, not ${channels} channels`,
      { channels },
    );
  }
  return tf.tidy(() => {
    const rgb = channels === 1 ? tf.tile(images, [1, 1, 1, 3]) : images;
    return tf.image.resizeBilinear(rgb, [inceptionSide, inceptionSide], false, true);
  });
}

function probeOutputShape(model: tf.GraphModel): number[] {
  try {
    const output = tf.tidy(() => model.predict(tf.zeros([1, inceptionSide, inceptionSide, 3])));
    const shape = output instanceof tf.Tensor ? output.shape : [];
    tf.dispose(output);
    return shape;
  } catch {
    return [];
  }
}

function unavailable(message: string, dir: string | undefined): GanforgeError {
  return new GanforgeError('GANFORGE_ERR_EXTRACTOR_UNAVAILABLE', message, {
    extractor: 'inception-v3-pool3',
    dir: dir ?? null,
  });
}
