import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Random } from '../../src/gan/random.js';

/**
 * A stand-in for Inception-v3 with its signature, [N, 299, 299, 3] -> [N, 2048], written by hand
 * in the graph-model format tensorflowjs_converter produces: 23x23 average pooling (299 = 13 x 23),
 * a flatten, and a dense layer with seeded weights.
 */
const side = 299;
const block = 23;
const cells = side / block;
const flat = cells * cells * 3;
const dims = 2048;

/** The stand-in's sizes, for references computed from its definition. */
export const standInGeometry = { side, block, cells, flat, dims };

const base64 = (text: string) => Buffer.from(text).toString('base64');
const shape = (sizes: number[]) => ({ dim: sizes.map((size) => ({ size: String(size) })) });
const floatType = { type: 'DT_FLOAT' };

function constNode(name: string, dtype: 'DT_FLOAT' | 'DT_INT32', sizes: number[]) {
  return {
    name,
    op: 'Const',
    attr: { value: { tensor: { dtype, tensorShape: shape(sizes) } }, dtype: { type: dtype } },
  };
}

function standInModelJson(outputs: number) {
  return {
    format: 'graph-model',
    generatedBy: 'ganforge tests',
    convertedBy: 'hand',
    modelTopology: {
      node: [
        {
          name: 'input_1',
          op: 'Placeholder',
          attr: { dtype: floatType, shape: { shape: shape([-1, side, side, 3]) } },
        },
        {
          name: 'pool',
          op: 'AvgPool',
          input: ['input_1'],
          attr: {
            T: floatType,
            ksize: { list: { i: ['1', String(block), String(block), '1'] } },
            strides: { list: { i: ['1', String(block), String(block), '1'] } },
            padding: { s: base64('VALID') },
            data_format: { s: base64('NHWC') },
          },
        },
        constNode('flat_shape', 'DT_INT32', [2]),
        {
          name: 'flat',
          op: 'Reshape',
          input: ['pool', 'flat_shape'],
          attr: { T: floatType, Tshape: { type: 'DT_INT32' } },
        },
        constNode('dense_kernel', 'DT_FLOAT', [flat, outputs]),
        {
          name: 'dense',
          op: 'MatMul',
          input: ['flat', 'dense_kernel'],
          attr: { T: floatType, transpose_a: { b: false }, transpose_b: { b: false } },
        },
        constNode('dense_bias', 'DT_FLOAT', [outputs]),
        {
          name: 'Identity',
          op: 'BiasAdd',
          input: ['dense', 'dense_bias'],
          attr: { T: floatType, data_format: { s: base64('NHWC') } },
        },
      ],
      library: {},
      versions: { producer: 1 },
    },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'flat_shape', shape: [2], dtype: 'int32' },
          { name: 'dense_kernel', shape: [flat, outputs], dtype: 'float32' },
          { name: 'dense_bias', shape: [outputs], dtype: 'float32' },
        ],
      },
    ],
  };
}

export interface StandIn {
  dir: string;
  kernel: Float32Array;
  bias: Float32Array;
  shardSha256: string;
}

/** Writes a stand-in with `outputs` features (2048 has the real signature) into `dir`. */
export async function writeStandIn(dir: string, outputs: number, seed: number): Promise<StandIn> {
  const rng = new Random(seed);
  const kernel = rng.normals(flat * outputs).map((x) => x * 0.05);
  const bias = rng.normals(outputs);
  const shard = Buffer.concat([
    Buffer.from(new Int32Array([-1, flat]).buffer),
    Buffer.from(kernel.buffer),
    Buffer.from(bias.buffer),
  ]);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.json'), JSON.stringify(standInModelJson(outputs)));
  await writeFile(join(dir, 'group1-shard1of1.bin'), shard);
  const shardSha256 = createHash('sha256').update(shard).digest('hex');
  return { dir, kernel, bias, shardSha256 };
}
