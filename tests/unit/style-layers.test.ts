import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, useBackendForTests } from '../../src/gan/engine.js';
import { twiceDifferentiableLeakyRelu } from '../../src/gan/layers/activations.js';
import { EqualizedConv2d, EqualizedDense } from '../../src/gan/layers/equalized.js';
import { StyleMapping } from '../../src/gan/layers/mapping.js';
import { ModulatedConv2d } from '../../src/gan/layers/modulated-conv.js';
import { VariableStore } from '../../src/gan/layers/network.js';
import { NoiseInjection } from '../../src/gan/layers/noise.js';
import {
  AdaptiveInstanceNorm,
  minibatchStddev,
  pixelNorm,
} from '../../src/gan/layers/normalization.js';
import { downsample2x, padImagesTo, upsample2x } from '../../src/gan/layers/resample.js';
import { Random } from '../../src/gan/random.js';
import { relativeError } from '../helpers/tensor-compare.js';

type Shape = number[];

function seeded(shape: Shape, seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

beforeAll(async () => {
  await initEngine('wasm');
});

describe('pixel norm', () => {
  it('scales every pixel feature vector to unit mean square', () => {
    tf.tidy(() => {
      const x = tf.mul(seeded([3, 4, 5, 7], 1), 5);
      const meanSquare = tf.mean(tf.square(pixelNorm(x)), -1);
      const values = meanSquare.dataSync();
      expect(values.length).toBe(3 * 4 * 5);
      for (const v of values) expect(v).toBeCloseTo(1, 4);
    });
  });
});

describe('minibatch standard deviation', () => {
  it('appends the group-averaged standard deviation, computed by hand', () => {
    const [n, h, w, c] = [4, 2, 3, 2];
    const x = Float32Array.from({ length: n * h * w * c }, (_, i) => Math.sin(i * 1.7) * (1 + i));
    const y = tf.tidy(() => minibatchStddev(tf.tensor4d(x, [n, h, w, c]), 2).arraySync());
    // Groups of 2 out of 4 samples: sample s is in group s mod 2, with sample s + 2 or s - 2.
    const at = (s: number, i: number, j: number, k: number) => x[((s * h + i) * w + j) * c + k];
    for (const group of [0, 1]) {
      let sum = 0;
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          for (let k = 0; k < c; k++) {
            const [a, b] = [at(group, i, j, k), at(group + 2, i, j, k)];
            const mean = (a + b) / 2;
            sum += Math.sqrt(((a - mean) ** 2 + (b - mean) ** 2) / 2 + 1e-8);
          }
        }
      }
      const expected = sum / (h * w * c);
      for (const s of [group, group + 2]) {
        expect(y[s][0][0]).toHaveLength(c + 1);
        expect(y[s][1][2][c]).toBeCloseTo(expected, 4);
        expect(y[s][0][1][c]).toBeCloseTo(expected, 4);
        expect(y[s][1][1][0]).toBeCloseTo(at(s, 1, 1, 0), 5);
      }
    }
  });

  it('uses the largest group size that divides the batch', () => {
    tf.tidy(() => {
      expect(minibatchStddev(seeded([6, 2, 2, 3], 2) as tf.Tensor4D).shape).toEqual([6, 2, 2, 4]);
      expect(minibatchStddev(seeded([1, 2, 2, 3], 2) as tf.Tensor4D).shape).toEqual([1, 2, 2, 4]);
    });
  });
});

describe('resampling', () => {
  it('matches nearest-neighbour resize and 2x2 average pooling', () => {
    tf.tidy(() => {
      const x = seeded([3, 4, 6, 5], 3) as tf.Tensor4D;
      const nearest = tf.image.resizeNearestNeighbor(x, [8, 12]);
      expect(relativeError(upsample2x(x).dataSync(), nearest.dataSync())).toBe(0);
      const pooled = tf.avgPool(x, 2, 2, 'valid');
      expect(relativeError(downsample2x(x).dataSync(), pooled.dataSync())).toBeLessThan(1e-6);
    });
  });

  it('pads 28x28 images to 32x32 with the background value', () => {
    tf.tidy(() => {
      const padded = padImagesTo(tf.ones([2, 28, 28, 1]), 32);
      expect(padded.shape).toEqual([2, 32, 32, 1]);
      expect(tf.sum(padded).dataSync()[0]).toBe(2 * (28 * 28 - (32 * 32 - 28 * 28)));
      expect(padded.arraySync()[1][1][1][0]).toBe(-1);
      expect(padded.arraySync()[1][2][2][0]).toBe(1);
    });
  });
});

describe('modulated convolution', () => {
  it('demodulated: unit-variance input gives feature maps of standard deviation ~1', () => {
    const store = new VariableStore(4);
    const conv = new ModulatedConv2d(store, 'conv', 16, 32, 24, 3);
    const stds = tf.tidy(() => {
      const x = seeded([4, 32, 32, 32], 5) as tf.Tensor4D;
      // Styles far from the initial 1: w ~ N(0, 9) through an affine map of gain 1.
      const w = tf.mul(seeded([4, 16], 6), 3) as tf.Tensor2D;
      // Border pixels see zero padding; the interior sees all 3x3 taps.
      const y = tf.slice(conv.apply(x, w), [0, 1, 1, 0], [4, 30, 30, 24]);
      return tf.sqrt(tf.moments(y, [1, 2]).variance).dataSync();
    });
    store.dispose();
    // 900 pixels per map: the sample standard deviation of one map is 1 +- ~3.5% (1 sigma).
    expect(stds.length).toBe(4 * 24);
    for (const s of stds) expect(Math.abs(s - 1)).toBeLessThan(0.15);
    const mean = Array.from(stds).reduce((a, b) => a + b, 0) / stds.length;
    expect(Math.abs(mean - 1)).toBeLessThan(0.03);
  });

  it.each([true, false])(
    'equals a convolution with explicitly modulated per-sample weights (demodulate %s)',
    (demodulate) => {
      const store = new VariableStore(7);
      const conv = new ModulatedConv2d(store, 'conv', 5, 3, 4, 3, { demodulate });
      const [actual, expected] = tf.tidy(() => {
        const x = seeded([2, 5, 5, 3], 8) as tf.Tensor4D;
        const w = seeded([2, 5], 9) as tf.Tensor2D;
        const weight = tf.mul(store.trainable.get('conv/weight')!, 1 / Math.sqrt(3 * 9));
        const styles = store.trainable.get('conv/style/weight')!;
        const styleBias = store.trainable.get('conv/style/bias')!;
        const s = tf.add(tf.matMul(w, tf.mul(styles, 1 / Math.sqrt(5))), styleBias);
        const perSample = [0, 1].map((i) => {
          // StyleGAN2 eq. 1 and 3, written out.
          let wi = tf.mul(weight, tf.reshape(tf.slice(s, [i, 0], [1, 3]), [1, 1, 3, 1]));
          if (demodulate) wi = tf.mul(wi, tf.rsqrt(tf.add(tf.sum(tf.square(wi), [0, 1, 2]), 1e-8)));
          return tf.conv2d(tf.slice(x, [i, 0, 0, 0], [1, 5, 5, 3]), wi as tf.Tensor4D, 1, 'same');
        });
        return [conv.apply(x, w).dataSync(), tf.concat(perSample).dataSync()];
      });
      store.dispose();
      expect(relativeError(actual, expected)).toBeLessThan(1e-5);
    },
  );
});

describe('style mapping and truncation', () => {
  function withMapping(
    run: (mapping: StyleMapping, z: tf.Tensor2D, average: tf.Variable) => void,
  ): void {
    const store = new VariableStore(10);
    const mapping = new StyleMapping(store, { latentDim: 6, styleDim: 5, depth: 2 });
    const average = store.state.get('mapping/w_avg')!;
    try {
      tf.tidy(() => run(mapping, seeded([3, 6], 11) as tf.Tensor2D, average));
    } finally {
      store.dispose();
    }
  }

  it('psi = 0 gives w_avg at every layer and psi = 1 leaves w unchanged', () => {
    withMapping((mapping, z, stored) => {
      const random = new Random(1);
      // Training passes move w_avg away from its initial zeros.
      for (let i = 0; i < 3; i++) mapping.styles(z, 4, { training: true }, random);
      const average = mapping.styles(z, 4, { training: false, psi: 0 }, random);
      expect(tf.max(tf.abs(stored)).dataSync()[0]).toBeGreaterThan(0);
      for (const s of average) {
        expect(
          relativeError(s.dataSync(), tf.tile(tf.reshape(stored, [1, 5]), [3, 1]).dataSync()),
        ).toBeLessThan(1e-6);
      }
      const untouched = mapping.styles(z, 4, { training: false, psi: 1 }, random);
      const w = mapping.map(z).dataSync();
      for (const s of untouched) expect(Array.from(s.dataSync())).toEqual(Array.from(w));
      const half = mapping.styles(z, 4, { training: false, psi: 0.5 }, random)[0];
      const expected = tf.div(tf.add(mapping.map(z), stored), 2);
      expect(relativeError(half.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    });
  });

  it('tracks w_avg as an exponential moving average of the batch mean of w', () => {
    withMapping((mapping, z, stored) => {
      mapping.styles(z, 1, { training: true }, new Random(2));
      const expected = tf.mul(tf.mean(mapping.map(z), 0), 1 - 0.995);
      expect(relativeError(stored.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    });
  });

  it('style mixing switches to a second w at one crossover layer', () => {
    withMapping((mapping, z) => {
      const random = new Random(3);
      const crossovers = new Set<number>();
      for (let trial = 0; trial < 12; trial++) {
        const styles = mapping.styles(z, 6, { training: true, mixingProbability: 1 }, random);
        const first = styles[0].dataSync();
        const same = styles.map((s) => relativeError(s.dataSync(), first) === 0);
        const crossover = same.indexOf(false);
        expect(crossover).toBeGreaterThan(0);
        expect(same.slice(crossover).every((v) => !v)).toBe(true);
        crossovers.add(crossover);
      }
      expect(crossovers.size).toBeGreaterThan(2);
      const plain = mapping.styles(z, 6, { training: true, mixingProbability: 0 }, random);
      expect(new Set(plain).size).toBe(1);
    });
  });
});

/**
 * Every block's loss sum(f(x) * r) and its gradients with respect to the input and all the
 * block's variables; built from seeds so both backends see the same numbers.
 */
interface BlockCase {
  name: string;
  input: Shape;
  build: (store: VariableStore) => (x: tf.Tensor) => tf.Tensor;
}

const style = (n: number, dim: number) => seeded([n, dim], 21) as tf.Tensor2D;

const blockCases: BlockCase[] = [
  {
    name: 'equalized dense',
    input: [3, 5],
    build: (s) => {
      const dense = new EqualizedDense(s, 'dense', 5, 4, { lrMultiplier: 0.1, biasInit: 0.5 });
      return (x) => dense.apply(x as tf.Tensor2D);
    },
  },
  {
    name: 'equalized conv2d',
    input: [2, 5, 6, 3],
    build: (s) => {
      const conv = new EqualizedConv2d(s, 'conv', 3, 4, 3, { biasInit: 0.1 });
      return (x) => conv.apply(x as tf.Tensor4D);
    },
  },
  {
    name: 'twice-differentiable LeakyReLU',
    input: [4, 7],
    build: () => (x) => twiceDifferentiableLeakyRelu(x),
  },
  { name: 'pixel norm', input: [2, 3, 3, 4], build: () => (x) => pixelNorm(x) },
  {
    name: 'minibatch stddev',
    input: [4, 3, 3, 2],
    build: () => (x) => minibatchStddev(x as tf.Tensor4D, 2),
  },
  { name: '2x upsample', input: [2, 3, 4, 3], build: () => (x) => upsample2x(x as tf.Tensor4D) },
  {
    name: '2x downsample',
    input: [2, 4, 6, 3],
    build: () => (x) => downsample2x(x as tf.Tensor4D),
  },
  {
    name: 'noise injection',
    input: [2, 4, 4, 3],
    build: (s) => {
      const noise = new NoiseInjection(s, 'layer', 3);
      tf.tidy(() => s.trainable.get('layer/noise_scale')!.assign(tf.tensor1d([0.5, -1, 2])));
      return (x) => noise.apply(x as tf.Tensor4D, seeded([2, 4, 4, 1], 22) as tf.Tensor4D);
    },
  },
  {
    name: 'AdaIN',
    input: [2, 4, 4, 3],
    build: (s) => {
      const adain = new AdaptiveInstanceNorm(s, 'adain', 5, 3);
      return (x) => adain.apply(x as tf.Tensor4D, style(2, 5));
    },
  },
  {
    name: 'modulated, demodulated conv2d',
    input: [2, 5, 5, 3],
    build: (s) => {
      const conv = new ModulatedConv2d(s, 'conv', 5, 3, 4, 3);
      return (x) => conv.apply(x as tf.Tensor4D, style(2, 5));
    },
  },
  {
    name: 'modulated 1x1 conv2d (toRGB)',
    input: [2, 5, 5, 3],
    build: (s) => {
      const conv = new ModulatedConv2d(s, 'conv', 5, 3, 2, 1, { demodulate: false });
      return (x) => conv.apply(x as tf.Tensor4D, style(2, 5));
    },
  },
  {
    name: 'mapping network',
    input: [3, 6],
    build: (s) => {
      const mapping = new StyleMapping(s, { latentDim: 6, styleDim: 5, depth: 3 });
      return (x) => mapping.map(x as tf.Tensor2D);
    },
  },
];

function blockGradients(c: BlockCase): Float32Array[] {
  const store = new VariableStore(20);
  try {
    const f = c.build(store);
    return tf.tidy(() => {
      const x = seeded(c.input, 23);
      const r = seeded(f(x).shape, 24);
      const loss = (input: tf.Tensor) => tf.sum(tf.mul(f(input), r)) as tf.Scalar;
      const { value, grad: dx } = tf.valueAndGrad(loss)(x);
      const variables = [...store.trainable.values()];
      // variableGrads with no list would differentiate every variable in the process.
      const grads = variables.length ? tf.variableGrads(() => loss(x), variables).grads : {};
      return [value, dx, ...variables.map((v) => grads[v.name])].map(
        (t) => t.dataSync() as Float32Array,
      );
    });
  } finally {
    store.dispose();
  }
}

describe('block gradients on wasm', () => {
  it.each(blockCases)('$name matches the cpu backend', async (c) => {
    await useBackendForTests('cpu');
    const expected = blockGradients(c);
    await useBackendForTests('wasm');
    const before = tf.memory().numTensors;
    const actual = blockGradients(c);
    expect(tf.memory().numTensors).toBe(before);
    expect(actual.length).toBe(expected.length);
    actual.forEach((a, i) => expect(relativeError(a, expected[i])).toBeLessThan(1e-4));
  });
});
