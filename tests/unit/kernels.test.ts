import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, useBackendForTests } from '../../src/gan/engine.js';
import { columnLimits } from '../../src/gan/kernels/columns.js';
import { registerWasmKernels, wasmKernelsRegistered } from '../../src/gan/kernels/index.js';
import { dataBuffers, relativeError } from '../helpers/tensor-compare.js';

type Shape4 = [number, number, number, number];
type Pad =
  'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  x: Shape4;
  filter: Shape4;
  stride: number;
  pad: Pad;
}

/** dx, dw of sum(conv2d(x, w) * dy) and conv2dTranspose(dy, w), all with seeded inputs. */
function convResults(c: ConvCase): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.randomUniform(c.x, -1, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomUniform(c.filter, -1, 1, 'float32', 2) as tf.Tensor4D;
    const conv = (a: tf.Tensor, b: tf.Tensor) =>
      tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad);
    const yShape = conv(x, w).shape;
    const dy = tf.randomUniform(yShape, -1, 1, 'float32', 3) as tf.Tensor4D;
    const [dx, dw] = tf.grads(conv)([x, w], dy);
    const transposed = tf.conv2dTranspose(dy, w, c.x, c.stride, c.pad);
    return [dx, dw, transposed].map((t) => t.dataSync() as Float32Array);
  });
}

async function compareWithCpu(c: ConvCase): Promise<number[]> {
  await useBackendForTests('cpu');
  const expected = convResults(c);
  await useBackendForTests('wasm');
  const tensorsBefore = tf.memory().numTensors;
  const buffersBefore = dataBuffers();
  const actual = convResults(c);
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  expect(dataBuffers()).toBe(buffersBefore);
  return actual.map((a, i) => relativeError(a, expected[i]));
}

// Batch 64 takes the filter gradient's GEMM path, batches 1 and 8 its dilated convolution;
// strided input gradients take one convolution per phase from 16 input channels (20 here) and
// the GEMM path below (3 here), stride 1 its single convolution.
const cases: ConvCase[] = [];
for (const batch of [1, 8, 64]) {
  for (const [inChannels, outChannels] of [
    [3, 4],
    [20, 6],
  ]) {
    for (const k of [3, 5]) {
      for (const stride of [1, 2]) {
        for (const pad of ['same', 'valid'] as const) {
          cases.push({
            x: [batch, 7, 9, inChannels],
            filter: [k, k, inChannels, outChannels],
            stride,
            pad,
          });
        }
      }
    }
  }
}
// Explicit asymmetric padding, a 1x1 filter whose stride skips rows, a 4x4 filter and stride 3.
cases.push(
  {
    x: [2, 7, 9, 3],
    filter: [3, 3, 3, 2],
    stride: 2,
    pad: [
      [0, 0],
      [2, 0],
      [1, 3],
      [0, 0],
    ],
  },
  { x: [3, 6, 5, 2], filter: [1, 1, 2, 3], stride: 2, pad: 'valid' },
  { x: [2, 10, 10, 32], filter: [4, 4, 32, 5], stride: 2, pad: 'same' },
  { x: [2, 11, 8, 4], filter: [5, 5, 4, 3], stride: 3, pad: 'same' },
);
// The same geometries with 16 or more input channels, for the input gradient by phases: phases
// no tap reaches (1x1 and 2x2 filters under strides 2 and 3), phases whose dy window is cropped
// or padded unevenly, and the DCGAN layer 14x14x64 -> 7x7x128 at batch 8.
cases.push(
  {
    x: [2, 7, 9, 17],
    filter: [3, 3, 17, 2],
    stride: 2,
    pad: [
      [0, 0],
      [2, 0],
      [1, 3],
      [0, 0],
    ],
  },
  { x: [3, 6, 5, 16], filter: [1, 1, 16, 3], stride: 2, pad: 'valid' },
  { x: [2, 10, 9, 16], filter: [2, 2, 16, 4], stride: 3, pad: 'valid' },
  { x: [2, 11, 8, 16], filter: [5, 5, 16, 3], stride: 3, pad: 'same' },
  { x: [1, 13, 13, 24], filter: [4, 4, 24, 8], stride: 2, pad: 'valid' },
  { x: [8, 14, 14, 64], filter: [5, 5, 64, 128], stride: 2, pad: 'same' },
);

describe('wasm convolution gradient kernels', () => {
  beforeAll(async () => {
    await initEngine('wasm');
  });

  it.each(cases)(
    'match the cpu backend: x $x, filter $filter, stride $stride, pad $pad',
    async (c) => {
      const [dx, dw, transposed] = await compareWithCpu(c);
      expect(dx).toBeLessThan(1e-4);
      expect(dw).toBeLessThan(1e-4);
      expect(transposed).toBeLessThan(1e-4);
    },
  );
});

describe('wasm convolution gradients by GEMM in chunks', () => {
  // A column budget far below one image's columns: one image (input gradient) or one filter
  // row (filter gradient) per chunk, the smallest chunks there are.
  it.each([
    { x: [64, 9, 7, 5], filter: [5, 5, 5, 6], stride: 2, pad: 'same' },
    { x: [17, 8, 8, 3], filter: [3, 3, 3, 4], stride: 2, pad: 'valid' },
  ] as ConvCase[])('match the cpu backend: x $x, filter $filter', async (c) => {
    const limit = columnLimits.floats;
    columnLimits.floats = 1;
    try {
      const [dx, dw, transposed] = await compareWithCpu(c);
      expect(dx).toBeLessThan(1e-4);
      expect(dw).toBeLessThan(1e-4);
      expect(transposed).toBeLessThan(1e-4);
    } finally {
      columnLimits.floats = limit;
    }
  });
});

describe('wasm BatchMatMul with transposed operands', () => {
  it.each([
    [false, true],
    [true, false],
    [true, true],
  ])('matches the cpu backend for transposeA=%s, transposeB=%s', async (ta, tb) => {
    const product = () =>
      tf.tidy(() => {
        const a = tf.randomUniform(ta ? [2, 33, 17] : [2, 17, 33], -1, 1, 'float32', 4);
        const b = tf.randomUniform(tb ? [2, 9, 33] : [2, 33, 9], -1, 1, 'float32', 5);
        return tf.matMul(a, b, ta, tb).dataSync() as Float32Array;
      });
    await useBackendForTests('cpu');
    const expected = product();
    await useBackendForTests('wasm');
    const buffersBefore = dataBuffers();
    expect(relativeError(product(), expected)).toBeLessThan(1e-5);
    expect(dataBuffers()).toBe(buffersBefore);
  });
});

describe('wasm Tile', () => {
  it.each([
    { shape: [1, 1, 1, 5], reps: [3, 4, 2, 1], dtype: 'float32' },
    { shape: [2, 3], reps: [2, 3], dtype: 'int32' },
    { shape: [3, 1, 2], reps: [1, 4, 3], dtype: 'bool' },
    { shape: [4], reps: [5], dtype: 'float32' },
  ] as const)('matches the cpu backend for $shape x $reps ($dtype)', async (c) => {
    const tiled = () =>
      tf.tidy(() => {
        const x = tf.randomUniform(c.shape as unknown as number[], -3, 3, 'float32', 11);
        const typed = c.dtype === 'bool' ? tf.greater(x, 0) : tf.cast(x, c.dtype);
        const y = tf.tile(typed, c.reps as unknown as number[]);
        return { shape: y.shape, dtype: y.dtype, values: Array.from(y.dataSync()) };
      });
    await useBackendForTests('cpu');
    const expected = tiled();
    await useBackendForTests('wasm');
    const buffersBefore = dataBuffers();
    expect(tiled()).toEqual(expected);
    expect(dataBuffers()).toBe(buffersBefore);
  });
});

describe('wasm LeakyRelu and Greater', () => {
  /** Values with zeros and both signs; LeakyRelu, its gradient (Greater, Select) and a mask. */
  function results(alpha: number): { values: number[][]; dtypes: string[] } {
    return tf.tidy(() => {
      const x = tf.concat([
        tf.randomUniform([3, 5, 7, 2], -2, 2, 'float32', 12).reshape([-1]),
        tf.tensor1d([0, -0, 1e-30, -1e-30]),
      ]);
      const dy = tf.randomUniform(x.shape, -1, 1, 'float32', 13);
      const y = tf.leakyRelu(x, alpha);
      const dx = tf.grad((t: tf.Tensor) => tf.leakyRelu(t, alpha))(x, dy);
      const masks = [
        tf.greater(x, tf.scalar(0.5)),
        tf.greater(x.reshape([2, -1]), tf.tensor2d([[0.1]])),
        // Not a single-value right side, nor float32: the stock kernels' cases.
        tf.greater(x.reshape([2, -1]), tf.tensor2d([[0], [1]])),
        tf.greater(tf.cast(x, 'int32'), tf.scalar(0, 'int32')),
        tf.leakyRelu(tf.cast(x, 'int32'), alpha),
      ];
      const all = [y, dx, ...masks];
      return { values: all.map((t) => Array.from(t.dataSync())), dtypes: all.map((t) => t.dtype) };
    });
  }

  it.each([0.2, 0, 1.5])('match the cpu backend with alpha %s', async (alpha) => {
    await useBackendForTests('cpu');
    const expected = results(alpha);
    await useBackendForTests('wasm');
    const buffersBefore = dataBuffers();
    const actual = results(alpha);
    expect(dataBuffers()).toBe(buffersBefore);
    expect(actual.dtypes).toEqual(expected.dtypes);
    // LeakyRelu and its gradient within float32 rounding (the cpu backend multiplies by alpha
    // in float64), the masks exactly.
    for (const i of [0, 1, 6]) {
      const error = relativeError(
        Float32Array.from(actual.values[i]),
        Float32Array.from(expected.values[i]),
      );
      expect(error).toBeLessThan(1e-6);
    }
    expect(actual.values.slice(2, 6)).toEqual(expected.values.slice(2, 6));
  });
});

describe('wasm Identity', () => {
  it('shares the buffer of its input until both are disposed', async () => {
    await useBackendForTests('wasm');
    const buffersBefore = dataBuffers();
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const y = tf.clone(x);
    expect(dataBuffers()).toBe(buffersBefore + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(dataBuffers()).toBe(buffersBefore);
    const words = tf.tensor(['a', 'b']);
    const copy = tf.clone(words);
    expect(copy.dataSync()).toEqual(['a', 'b']);
    tf.dispose([words, copy]);
  });
});

describe('a tiny DCGAN-shaped net', () => {
  /** D(G(z)) with one stride-2 transposed conv and one stride-2 conv; loss and all gradients. */
  function lossAndGradients(): Float32Array[] {
    return tf.tidy(() => {
      const z = tf.randomUniform([2, 4, 4, 3], -1, 1, 'float32', 6);
      const real = tf.randomUniform([2, 8, 8, 1], -1, 1, 'float32', 7);
      const gw = tf.randomNormal([5, 5, 1, 3], 0, 0.2, 'float32', 8);
      const dw = tf.randomNormal([5, 5, 1, 4], 0, 0.2, 'float32', 9);
      const dense = tf.randomNormal([4 * 4 * 4, 1], 0, 0.2, 'float32', 10);
      const discriminate = (images: tf.Tensor, w: tf.Tensor, v: tf.Tensor) => {
        const h = tf.leakyRelu(tf.conv2d(images as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), 0.2);
        return tf.matMul(tf.reshape(h, [2, -1]), v as tf.Tensor2D);
      };
      const loss = (g: tf.Tensor, w: tf.Tensor, v: tf.Tensor) => {
        const fake = tf.tanh(
          tf.conv2dTranspose(z as tf.Tensor4D, g as tf.Tensor4D, [2, 8, 8, 1], 2, 'same'),
        );
        const fakeLogits = discriminate(fake, w, v);
        const realLogits = discriminate(real, w, v);
        return tf.add(
          tf.losses.sigmoidCrossEntropy(tf.onesLike(realLogits), realLogits),
          tf.losses.sigmoidCrossEntropy(tf.zerosLike(fakeLogits), fakeLogits),
        ) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(loss)([gw, dw, dense]);
      return [value, ...grads].map((t) => t.dataSync() as Float32Array);
    });
  }

  it('has the same loss and gradients on wasm as on cpu, without leaking', async () => {
    await useBackendForTests('cpu');
    const expected = lossAndGradients();
    await useBackendForTests('wasm');
    const tensorsBefore = tf.memory().numTensors;
    const buffersBefore = dataBuffers();
    const actual = lossAndGradients();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(dataBuffers()).toBe(buffersBefore);
    expect(Number.isFinite(actual[0][0])).toBe(true);
    actual.forEach((a, i) => expect(relativeError(a, expected[i])).toBeLessThan(1e-4));
  });
});

describe('kernel registration', () => {
  it('is idempotent and only touches wasm', async () => {
    await initEngine('wasm');
    registerWasmKernels();
    registerWasmKernels();
    expect(wasmKernelsRegistered()).toBe(true);
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).toBeDefined();
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu').kernelFunc).not.toBe(
      tf.getKernel('Conv2DBackpropFilter', 'wasm').kernelFunc,
    );
  });
});
