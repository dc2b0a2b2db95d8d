import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../../src/gan/engine.js';
import { Random } from '../../src/gan/random.js';
import { loadFeatureExtractor } from '../../src/metrics/extractors/index.js';
import { standInGeometry, writeStandIn, type StandIn } from '../helpers/inception-stand-in.js';

const { side, block, cells, flat, dims } = standInGeometry;

/**
 * The reference preprocessing and stand-in network in float64, written from the definitions:
 * bilinear interpolation with half-pixel centres (source coordinate (o + 0.5) * in / out - 0.5,
 * clamped to the image), the gray channel repeated to RGB, block means, then the dense layer.
 */
function referenceFeatures(gray: Float32Array, inSide: number, standIn: StandIn): Float64Array {
  const scale = inSide / side;
  const source = (o: number) => {
    const at = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), inSide - 1);
    const low = Math.floor(at);
    return { low, high: Math.min(low + 1, inSide - 1), frac: at - low };
  };
  const resized = new Float64Array(side * side);
  for (let y = 0; y < side; y++) {
    const sy = source(y);
    for (let x = 0; x < side; x++) {
      const sx = source(x);
      const pixel = (r: number, c: number) => gray[r * inSide + c];
      const top = pixel(sy.low, sx.low) * (1 - sx.frac) + pixel(sy.low, sx.high) * sx.frac;
      const bottom = pixel(sy.high, sx.low) * (1 - sx.frac) + pixel(sy.high, sx.high) * sx.frac;
      resized[y * side + x] = top * (1 - sy.frac) + bottom * sy.frac;
    }
  }
  const pooled = new Float64Array(flat);
  for (let i = 0; i < cells; i++) {
    for (let j = 0; j < cells; j++) {
      let sum = 0;
      for (let y = i * block; y < (i + 1) * block; y++) {
        for (let x = j * block; x < (j + 1) * block; x++) sum += resized[y * side + x];
      }
      for (let c = 0; c < 3; c++) pooled[(i * cells + j) * 3 + c] = sum / (block * block);
    }
  }
  const out = Float64Array.from(standIn.bias);
  for (let k = 0; k < flat; k++) {
    for (let d = 0; d < dims; d++) out[d] += pooled[k] * standIn.kernel[k * dims + d];
  }
  return out;
}

let root: string;
let standIn: StandIn;

beforeAll(async () => {
  await initEngine('wasm');
  root = await mkdtemp(join(tmpdir(), 'ganforge-inception-'));
  standIn = await writeStandIn(join(root, 'inception-v3'), dims, 7);
});

afterAll(() => rm(root, { recursive: true, force: true }));

describe('Inception-v3 pool_3 extractor from a local graph-model directory', () => {
  it('resizes, repeats the gray channel and runs the graph as the reference does', async () => {
    const extractor = await loadFeatureExtractor(
      { kind: 'inception', datasetId: 'mnist' },
      { cacheDir: root, inceptionModelDir: standIn.dir },
    );
    expect(extractor.name).toBe('inception-v3-pool3');
    expect(extractor.resize).toBe('bilinear-299');
    expect(extractor.sha256).toBe(standIn.shardSha256);

    const rng = new Random(3);
    const count = 3;
    const inSide = 28;
    const pixels = Float32Array.from({ length: count * inSide * inSide }, () => rng.next() * 2 - 1);
    const images = tf.tensor4d(pixels, [count, inSide, inSide, 1]);
    const { features, probabilities } = await extractor.extract(images);
    images.dispose();
    extractor.dispose();

    expect(probabilities).toBeNull();
    expect([features.rows, features.cols]).toEqual([count, dims]);
    let worst = 0;
    for (let n = 0; n < count; n++) {
      const image = pixels.subarray(n * inSide * inSide, (n + 1) * inSide * inSide);
      const expected = referenceFeatures(image, inSide, standIn);
      for (let d = 0; d < dims; d++) {
        const error = Math.abs(features.data[n * dims + d] - expected[d]);
        worst = Math.max(worst, error / (1 + Math.abs(expected[d])));
      }
    }
    // float32 arithmetic over 507-term sums of unit-scale values.
    expect(worst).toBeLessThan(1e-4);
  });

  it('refuses a missing, unset or wrongly shaped model directory with a coded error', async () => {
    const context = { cacheDir: root };
    const request = { kind: 'inception', datasetId: 'mnist' } as const;
    const code = { code: 'GANFORGE_ERR_EXTRACTOR_UNAVAILABLE' };
    await expect(loadFeatureExtractor(request, context)).rejects.toMatchObject(code);
    await expect(
      loadFeatureExtractor(request, { ...context, inceptionModelDir: join(root, 'absent') }),
    ).rejects.toMatchObject(code);

    const narrow = await writeStandIn(join(root, 'narrow'), 100, 8);
    await expect(
      loadFeatureExtractor(request, { ...context, inceptionModelDir: narrow.dir }),
    ).rejects.toMatchObject(code);
  });
});
