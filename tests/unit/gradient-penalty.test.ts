/**
 * The WGAN-GP penalty: case 11 (per-sample norm, one alpha per sample), and its gradient with
 * respect to the critic's weights against central finite differences, which needs second-order
 * gradients through our activations and convolution kernels on every backend we train on.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { leakyRelu } from '../../src/gan/activations.js';
import { initEngine, useBackendForTests } from '../../src/gan/engine.js';
import { gradientPenalty, interpolate, penaltyFromGradients } from '../../src/gan/losses.js';
import { buildConvCritic } from '../../src/gan/models/conv-critic.js';
import type { Network } from '../../src/gan/models/network.js';
import { readCase } from '../helpers/cases.js';

const caseName = '11-wgan-gp-per-sample-norm';
type Nested = number | Nested[];
const input = readCase<{
  lambda: number;
  shape: [number, number, number, number];
  grad: Nested;
  real: Nested;
  fake: Nested;
  alpha: number[];
  linear_critic_w_unscaled: Nested;
  linear_critic_target_norm: number;
  linear_critic_bias: number;
}>(caseName, 'input.json');
const expected = readCase<{
  A_given_gradients: { gp: number; diagnostic_wrong_norm_over_axis1_only: number };
  interpolates: { x_hat: Nested; sum: number };
  B_linear_critic: { w: Nested; gp: number; critic_on_x_hat: number[] };
}>(caseName, 'expected.json');

/** The case's tolerance for float32 tensors: relative 1e-5. */
function expectRelClose(got: number, want: number): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-5 * Math.abs(want));
}

/** The case's arrays are NCHW; ours are NHWC. The norm is over all of a sample's values anyway. */
function nhwc(values: Nested): tf.Tensor4D {
  return tf.transpose(tf.tensor(values as number[]) as tf.Tensor4D, [0, 2, 3, 1]);
}

beforeAll(async () => {
  await initEngine('wasm');
});

describe.each(['wasm', 'cpu'] as const)('case 11 on %s', (backend) => {
  beforeAll(async () => {
    await useBackendForTests(backend);
  });

  it('A: takes each sample norm over all its pixels and channels', () => {
    const gp = tf.tidy(() => penaltyFromGradients(nhwc(input.grad), input.lambda).dataSync()[0]);
    expectRelClose(gp, expected.A_given_gradients.gp);
    expect(
      Math.abs(gp - expected.A_given_gradients.diagnostic_wrong_norm_over_axis1_only),
    ).toBeGreaterThan(1);
  });

  it('interpolates with one alpha per sample', () => {
    const [values, sum] = tf.tidy(() => {
      const xHat = interpolate(nhwc(input.real), nhwc(input.fake), tf.tensor1d(input.alpha));
      return [xHat.dataSync(), xHat.sum().dataSync()[0]] as const;
    });
    expectRelClose(sum, expected.interpolates.sum);
    const want = tf.tidy(() => nhwc(expected.interpolates.x_hat).dataSync());
    values.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-6));
  });

  it('B: gives exactly lambda (||w|| - 1)^2 = 40 for a linear critic through autodiff', () => {
    const before = tf.memory().numTensors;
    const [gp, scores] = tf.tidy(() => {
      const w = tf.transpose(
        tf.tensor(expected.B_linear_critic.w as number[]) as tf.Tensor3D,
        [1, 2, 0],
      );
      const critic = (x: tf.Tensor) =>
        tf.add(tf.sum(tf.mul(x, w), [1, 2, 3]).reshape([-1, 1]), input.linear_critic_bias);
      const real = nhwc(input.real);
      const fake = nhwc(input.fake);
      const alpha = tf.tensor1d(input.alpha);
      return [
        gradientPenalty(critic, real, fake, alpha, input.lambda).dataSync()[0],
        critic(interpolate(real, fake, alpha)).dataSync(),
      ] as const;
    });
    expectRelClose(gp, expected.B_linear_critic.gp);
    scores.forEach((s, i) => expectRelClose(s, expected.B_linear_critic.critic_on_x_hat[i]));
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** A small MLP critic written with tensor ops: 16 -> 8 -> 8 -> 1, LeakyReLU(0.2). */
function mlpCritic(): Network {
  const sizes = [16, 8, 8, 1];
  const trainableVariables = sizes.slice(1).flatMap((units, i) => [
    {
      name: `dense${i}/kernel`,
      variable: tf.variable(tf.randomNormal([sizes[i], units], 0, 0.5, 'float32', 10 + i)),
    },
    {
      name: `dense${i}/bias`,
      variable: tf.variable(tf.randomNormal([units], 0, 0.1, 'float32', 20 + i)),
    },
  ]);
  return {
    name: 'discriminator',
    trainableVariables,
    stateVariables: [],
    apply: (x) =>
      tf.tidy(() => {
        let h = tf.reshape(x, [x.shape[0], -1]);
        for (let i = 0; i < 3; i++) {
          const [kernel, bias] = trainableVariables.slice(2 * i, 2 * i + 2);
          h = tf.add(tf.matMul(h, kernel.variable), bias.variable);
          if (i < 2) h = leakyRelu(h, 0.2);
        }
        return h;
      }),
    dispose: () => tf.dispose(trainableVariables.map((v) => v.variable)),
  };
}

interface GradientCheck {
  /** max |analytic - numeric| / max |analytic| over every weight of the critic. */
  error: number;
  largest: number;
}

/**
 * Central differences, in float32 on the backend under test, of the penalty with respect to every
 * critic weight, against the autodiff gradient.
 */
function checkPenaltyGradient(critic: Network, imageShape: number[], step: number): GradientCheck {
  const real = tf.randomUniform([3, ...imageShape], -1, 1, 'float32', 1);
  const fake = tf.randomUniform([3, ...imageShape], -1, 1, 'float32', 2);
  const alpha = tf.tensor1d([0.2, 0.5, 0.9]);
  const penalty = () =>
    gradientPenalty((x) => critic.apply(x, { training: true }), real, fake, alpha, 10);
  const variables = critic.trainableVariables.map(({ variable }) => variable);
  const { value, grads } = tf.variableGrads(penalty, variables);
  value.dispose();

  let diff = 0;
  let largest = 0;
  for (const variable of variables) {
    // The output bias does not reach the input gradient: no gradient, i.e. zero.
    const analytic = grads[variable.name]?.dataSync() ?? new Float32Array(variable.size);
    const original = Float32Array.from(variable.dataSync());
    for (let k = 0; k < original.length; k++) {
      const at = (delta: number) => {
        const moved = Float32Array.from(original);
        moved[k] += delta;
        tf.tidy(() => variable.assign(tf.tensor(moved, variable.shape)));
        return tf.tidy(() => penalty().dataSync()[0]);
      };
      const numeric = (at(step) - at(-step)) / (2 * step);
      diff = Math.max(diff, Math.abs(numeric - analytic[k]));
      largest = Math.max(largest, Math.abs(analytic[k]));
    }
    tf.tidy(() => variable.assign(tf.tensor(original, variable.shape)));
  }
  tf.dispose([real, fake, alpha, ...Object.values(grads)]);
  return { error: diff / largest, largest };
}

// Float32 central differences with step h carry a rounding error of about eps * |penalty| / h on
// top of the O(h^2) truncation; the errors measured here were 3e-5 to 2.4e-4 of the largest
// gradient. A missing or wrong second-order term is O(1) of it.
const tolerance = 2e-3;

describe.each(['wasm', 'cpu'] as const)(
  'the penalty gradient of an MLP critic on %s',
  (backend) => {
    beforeAll(async () => {
      await useBackendForTests(backend);
    });

    it('matches central finite differences for every weight', () => {
      const critic = mlpCritic();
      const before = tf.memory().numTensors;
      const { error, largest } = checkPenaltyGradient(critic, [4, 4, 1], 1e-3);
      expect(tf.memory().numTensors).toBe(before);
      expect(largest).toBeGreaterThan(0.1);
      expect(error).toBeLessThan(tolerance);
      critic.dispose();
    });
  },
);

describe('the penalty gradient of the convolutional WGAN-GP critic on wasm', () => {
  beforeAll(async () => {
    await useBackendForTests('wasm');
  });

  it('matches central finite differences for every weight', () => {
    const critic = buildConvCritic({ height: 8, width: 8, channels: 1 }, 2, 3);
    // Scale the N(0, 0.02) init up, so the penalty is far from its flat region around zero.
    for (const { variable } of critic.trainableVariables) {
      tf.tidy(() => variable.assign(tf.add(variable.mul(20), 0.01)));
    }
    const { error, largest } = checkPenaltyGradient(critic, [8, 8, 1], 1e-3);
    expect(largest).toBeGreaterThan(0.1);
    expect(error).toBeLessThan(tolerance);
    critic.dispose();
  });
});

describe.each(['wasm', 'cpu'] as const)(
  'second-order gradients through Conv2DBackpropFilter on %s',
  (backend) => {
    beforeAll(async () => {
      await useBackendForTests(backend);
    });

    it('differentiates a loss of the filter gradient with respect to x and dy', () => {
      const x = tf.randomUniform([2, 6, 6, 2], -1, 1, 'float32', 4) as tf.Tensor4D;
      const dy = tf.randomUniform([2, 3, 3, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
      const u = tf.randomUniform([3, 3, 2, 3], -1, 1, 'float32', 6) as tf.Tensor4D;
      const filter = tf.zeros([3, 3, 2, 3]) as tf.Tensor4D;
      // L(x, dy) = <dw(x, dy), u>, with dw the filter gradient of a stride-2 convolution.
      const loss = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.grad((w: tf.Tensor) =>
              tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), b)),
            )(filter),
            u,
          ),
        ) as tf.Scalar;
      const [gx, gdy] = tf.grads(loss)([x, dy]);
      // The loss is bilinear, so the central difference of each coordinate is exact up to rounding.
      for (const [index, tensor, analytic] of [
        [0, x, gx],
        [1, dy, gdy],
      ] as const) {
        const values = tensor.dataSync();
        const grad = analytic.dataSync();
        for (const k of [0, 7, values.length - 1]) {
          const at = (delta: number) => {
            const moved = Float32Array.from(values);
            moved[k] += delta;
            return tf.tidy(() => {
              const t = tf.tensor(moved, tensor.shape);
              return (index === 0 ? loss(t, dy) : loss(x, t)).dataSync()[0];
            });
          };
          const numeric = (at(0.05) - at(-0.05)) / 0.1;
          expect(Math.abs(numeric - grad[k])).toBeLessThan(1e-3 * Math.max(1, Math.abs(grad[k])));
        }
      }
      tf.dispose([x, dy, u, filter, gx, gdy]);
    });
  },
);
