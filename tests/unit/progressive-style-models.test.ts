import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, useBackendForTests } from '../../src/gan/engine.js';
import {
  allVariables,
  keepingState,
  type NamedVariable,
  type Network,
} from '../../src/gan/models/network.js';
import { downsample2x, padImagesTo, upsample2x } from '../../src/gan/layers/resample.js';
import { discriminatorLoss, generatorLoss } from '../../src/gan/losses.js';
import {
  buildProgressiveDiscriminator,
  buildProgressiveGenerator,
  progressiveRealImages,
  progressiveSchedule,
  type ProgressiveDiscriminator,
  type ProgressiveGenerator,
} from '../../src/gan/models/progressive-gan.js';
import {
  buildStyleGanDiscriminator,
  buildStyleGanGenerator,
  type StyleGenerator,
} from '../../src/gan/models/stylegan.js';
import {
  buildStyleGan2Discriminator,
  buildStyleGan2Generator,
} from '../../src/gan/models/stylegan2.js';
import { r1Penalty } from '../../src/gan/penalties.js';

const digits = { height: 28, width: 28, channels: 1 };
const latentDim = 8;
/** Channels 8, 8, 4, 2 at 4, 8, 16, 32: tiny, so every test runs in well under a second. */
const width = 2;

function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

function maxAbs(a: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]);
}

function variableNamed(variables: readonly NamedVariable[], name: string): tf.Variable {
  const found = variables.find((v) => v.name === name);
  if (!found) throw new Error(`no variable '${name}'`);
  return found.variable;
}

function snapshot(network: Network): Map<string, Float32Array> {
  return new Map(
    allVariables(network).map(({ name, variable }) => [
      name,
      Float32Array.from(variable.dataSync() as Float32Array),
    ]),
  );
}

function changedNames(network: Network, before: Map<string, Float32Array>) {
  return [...snapshot(network)].filter(([name, v]) => {
    const old = before.get(name)!;
    return v.some((x, i) => x !== old[i]);
  });
}

beforeAll(async () => {
  await initEngine('wasm');
});

describe('progressive schedule', () => {
  const config = { stableSteps: 10, fadeSteps: 4, finalResolution: 32 };

  it('stays at 4x4, then fades in and stabilizes each doubling, then stays at 32x32', () => {
    const at = (step: number) => progressiveSchedule(step, config);
    expect(at(0)).toEqual({ resolution: 4, alpha: 1 });
    expect(at(9)).toEqual({ resolution: 4, alpha: 1 });
    expect(at(10)).toEqual({ resolution: 8, alpha: 0 });
    expect(at(11)).toEqual({ resolution: 8, alpha: 0.25 });
    expect(at(14)).toEqual({ resolution: 8, alpha: 1 });
    expect(at(23)).toEqual({ resolution: 8, alpha: 1 });
    expect(at(24)).toEqual({ resolution: 16, alpha: 0 });
    expect(at(40)).toEqual({ resolution: 32, alpha: 0.5 });
    expect(at(10_000)).toEqual({ resolution: 32, alpha: 1 });
  });
});

describe('Progressive GAN', () => {
  let generator: ProgressiveGenerator;
  let discriminator: ProgressiveDiscriminator;

  beforeAll(() => {
    generator = buildProgressiveGenerator(latentDim, digits, width, 1);
    discriminator = buildProgressiveDiscriminator(digits, width, 2);
  });

  afterAll(() => {
    generator.dispose();
    discriminator.dispose();
  });

  /** G(z) and D(images) at a phase. */
  function generate(resolution: number, alpha: number, z: tf.Tensor): tf.Tensor4D {
    generator.setPhase({ resolution, alpha });
    return generator.apply(z, { training: false });
  }

  function discriminate(resolution: number, alpha: number, images: tf.Tensor): tf.Tensor {
    discriminator.setPhase({ resolution, alpha });
    return discriminator.apply(images, { training: false });
  }

  it.each([4, 8, 16, 32])('makes and judges images of side %i during and after fade-in', (r) => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const z = seeded([3, latentDim], 3);
      const real = padImagesTo(tf.randomUniform([3, 28, 28, 1], -1, 1, 'float32', 4), 32);
      for (const alpha of [0.5, 1]) {
        const phase = { resolution: r, alpha };
        expect(generate(r, alpha, z).shape).toEqual([3, r, r, 1]);
        expect(progressiveRealImages(real, phase).shape).toEqual([3, r, r, 1]);
        expect(discriminate(r, alpha, progressiveRealImages(real, phase)).shape).toEqual([3, 1]);
      }
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects images too small to grow from 4x4', () => {
    expect(() =>
      buildProgressiveGenerator(latentDim, { height: 4, width: 4, channels: 1 }, 2, 1),
    ).toThrow(expect.objectContaining({ code: 'GANFORGE_ERR_INVALID_CONFIG' }));
  });

  it('keeps the phase in its state and rejects an invalid one', () => {
    generator.setPhase({ resolution: 16, alpha: 0.25 });
    expect(generator.phase).toEqual({ resolution: 16, alpha: 0.25 });
    expect(variableNamed(generator.stateVariables, 'phase/resolution').dataSync()[0]).toBe(16);
    expect(variableNamed(generator.stateVariables, 'phase/alpha').dataSync()[0]).toBe(0.25);
    // Restoring the state variables, as a checkpoint does, restores the phase.
    tf.tidy(() => variableNamed(generator.stateVariables, 'phase/resolution').assign(tf.scalar(8)));
    expect(generator.phase).toEqual({ resolution: 8, alpha: 0.25 });
    const images = tf.tidy(() => generator.apply(seeded([1, latentDim], 2), { training: false }));
    expect(images.shape).toEqual([1, 8, 8, 1]);
    images.dispose();
    expect(() => generator.setPhase({ resolution: 12, alpha: 1 })).toThrow(RangeError);
    expect(() => generator.setPhase({ resolution: 64, alpha: 1 })).toThrow(RangeError);
    expect(() => discriminator.setPhase({ resolution: 8, alpha: 1.5 })).toThrow(RangeError);
  });

  it('G fades in continuously: alpha 0 is the upsampled old image, 1 the new block', () => {
    tf.tidy(() => {
      const z = seeded([3, latentDim], 5);
      const old = generate(16, 0, z);
      expect(maxAbsDiff(old, upsample2x(generate(8, 1, z)))).toBe(0);
      const fresh = generate(16, 1, z);
      expect(maxAbsDiff(generate(32, 0, z), upsample2x(fresh))).toBe(0);
      expect(maxAbsDiff(old, fresh)).toBeGreaterThan(1e-2 * maxAbs(fresh));
      const blend = generate(16, 0.3, z);
      const expected = tf.add(tf.mul(old, 0.7), tf.mul(fresh, 0.3));
      expect(maxAbsDiff(blend, expected)).toBeLessThan(1e-5 * maxAbs(fresh));
      generator.setPhase({ resolution: 16, alpha: 1 });
      expect(maxAbsDiff(generator.apply(z, { training: false, alpha: 0.3 }), blend)).toBe(0);
      for (const alpha of [0, 0.5, 0.999]) {
        // The output is linear in alpha: a step of 1e-3 moves it by 1e-3 (fresh - old).
        const step = maxAbsDiff(generate(16, alpha, z), generate(16, alpha + 1e-3, z));
        expect(step).toBeLessThan(1.01e-3 * maxAbsDiff(old, fresh) + 1e-6);
      }
    });
  });

  it('D fades in continuously: alpha 0 judges the downsampled image with the old block', () => {
    tf.tidy(() => {
      const images = seeded([4, 16, 16, 1], 6);
      const old = discriminate(16, 0, images);
      expect(maxAbsDiff(old, discriminate(8, 1, downsample2x(images as tf.Tensor4D)))).toBe(0);
      const fresh = discriminate(16, 1, images);
      expect(maxAbsDiff(old, fresh)).toBeGreaterThan(0);
      for (const alpha of [0, 0.5, 0.999]) {
        const step = maxAbsDiff(
          discriminate(16, alpha, images),
          discriminate(16, alpha + 1e-3, images),
        );
        // D is piecewise linear in alpha (the blend feeds LeakyReLUs): a step of 1e-3 moves the
        // logits by a small fraction of the whole fade's change.
        expect(step).toBeLessThan(1e-2 * maxAbsDiff(old, fresh));
      }
    });
  });

  it('fades real images between resolutions with the same alpha', () => {
    tf.tidy(() => {
      const real = seeded([2, 32, 32, 1], 7) as tf.Tensor4D;
      const at16 = downsample2x(real);
      const coarse = upsample2x(downsample2x(at16));
      const atZero = progressiveRealImages(real, { resolution: 16, alpha: 0 });
      expect(maxAbsDiff(atZero, coarse)).toBeLessThan(1e-6);
      const atOne = progressiveRealImages(real, { resolution: 16, alpha: 1 });
      expect(maxAbsDiff(atOne, at16)).toBe(0);
    });
  });
});

describe('style-based generators', () => {
  it.each([
    ['StyleGAN', buildStyleGanGenerator],
    ['StyleGAN2', buildStyleGan2Generator],
  ] as const)('%s: 32x32 images from 28x28 data, 8 styles, truncation around w_avg', (_, build) => {
    const generator = build(latentDim, digits, width, 8) as StyleGenerator;
    tf.tidy(() => {
      const z = seeded([3, latentDim], 9) as tf.Tensor2D;
      expect(generator.styleCount).toBe(8);
      expect(generator.apply(z, { training: true }).shape).toEqual([3, 32, 32, 1]);
      const average = variableNamed(generator.stateVariables, 'mapping/w_avg');
      expect(maxAbs(average)).toBeGreaterThan(0);
      for (const w of generator.styles(z, { training: false, psi: 0 })) {
        expect(maxAbsDiff(w, tf.mul(average, tf.ones([3, 1])))).toBeLessThan(1e-6);
      }
      const truncated = generator.apply(z, { training: false, psi: 0.7 });
      expect(truncated.shape).toEqual([3, 32, 32, 1]);
      expect(Number.isFinite(maxAbs(truncated))).toBe(true);
      // Noise (scales start at 0, so turned up here) makes every call different, unless the call
      // names its own noise seed.
      for (const { name, variable: v } of generator.trainableVariables) {
        if (name.endsWith('noise_scale')) v.assign(tf.onesLike(v));
      }
      const again = () => generator.apply(z, { training: false, seed: 5 });
      expect(maxAbsDiff(again(), again())).toBe(0);
      const noisy = () => generator.apply(z, { training: false });
      expect(maxAbsDiff(noisy(), noisy())).toBeGreaterThan(0);
    });
    generator.dispose();
  });

  it('draw the same initial weights from the same seed', () => {
    const a = buildStyleGan2Generator(latentDim, digits, width, 8);
    const b = buildStyleGan2Generator(latentDim, digits, width, 8);
    expect([...snapshot(a).keys()]).toEqual([...snapshot(b).keys()]);
    expect([...snapshot(a).values()]).toEqual([...snapshot(b).values()]);
    expect(snapshot(a).has('g32/layer1/conv/weight')).toBe(true);
    a.dispose();
    b.dispose();
  });
});

interface Pair {
  generator: Network;
  discriminator: Network;
  /** The real batch as D sees it. */
  real: (padded: tf.Tensor4D) => tf.Tensor4D;
  r1: boolean;
}

const models: Record<string, () => Pair> = {
  'Progressive GAN (16x16, fading in)': () => {
    const phase = { resolution: 16, alpha: 0.5 };
    const generator = buildProgressiveGenerator(latentDim, digits, width, 11);
    const discriminator = buildProgressiveDiscriminator(digits, width, 12);
    generator.setPhase(phase);
    discriminator.setPhase(phase);
    return { generator, discriminator, real: (x) => progressiveRealImages(x, phase), r1: false };
  },
  StyleGAN: () => ({
    generator: buildStyleGanGenerator(latentDim, digits, width, 11),
    discriminator: buildStyleGanDiscriminator(digits, width, 12),
    real: (x) => x,
    r1: false,
  }),
  'StyleGAN2 with R1': () => ({
    generator: buildStyleGan2Generator(latentDim, digits, width, 11),
    discriminator: buildStyleGan2Discriminator(digits, width, 12),
    real: (x) => x,
    r1: true,
  }),
};

describe.each(['wasm', 'cpu'] as const)('one training step on %s', (backend) => {
  beforeAll(async () => {
    await useBackendForTests(backend);
  });

  afterAll(async () => {
    await useBackendForTests('wasm');
  });

  it.each(Object.keys(models))('%s: finite losses, no leak, only one network moves', (name) => {
    const { generator, discriminator, real: toReal, r1 } = models[name]();
    const dOptimizer = tf.train.adam(1e-3, 0, 0.99);
    const gOptimizer = tf.train.adam(1e-3, 0, 0.99);
    const batch = 2;
    const real = tf.tidy(() =>
      toReal(padImagesTo(tf.randomUniform([batch, 28, 28, 1], -1, 1, 'float32', 13), 32)),
    );
    const z = seeded([batch, latentDim], 14);
    const variables = (n: Network) => n.trainableVariables.map((v) => v.variable);

    const discriminatorStep = () =>
      keepingState(generator, () => {
        const cost = dOptimizer.minimize(
          () => {
            const fake = generator.apply(z, { training: true });
            const loss = discriminatorLoss(
              discriminator.apply(real, { training: true }),
              discriminator.apply(fake, { training: true }),
            );
            // Lazy R1 (StyleGAN2): every 16th D step, here the measured one.
            return r1 ? tf.add(loss, r1Penalty(discriminator, real, { interval: 16 })) : loss;
          },
          true,
          variables(discriminator),
        )!;
        const value = cost.dataSync()[0];
        cost.dispose();
        return value;
      });
    const generatorStep = () =>
      keepingState(discriminator, () => {
        const cost = gOptimizer.minimize(
          () => {
            const fake = generator.apply(z, { training: true });
            return generatorLoss(discriminator.apply(fake, { training: true }));
          },
          true,
          variables(generator),
        )!;
        const value = cost.dataSync()[0];
        cost.dispose();
        return value;
      });

    // The first steps create Adam's moment variables; the measured ones must leave no tensor.
    discriminatorStep();
    generatorStep();

    let tensors = tf.memory().numTensors;
    let g = snapshot(generator);
    let d = snapshot(discriminator);
    expect(Number.isFinite(discriminatorStep())).toBe(true);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(changedNames(generator, g)).toEqual([]);
    expect(changedNames(discriminator, d).length).toBeGreaterThan(0);

    tensors = tf.memory().numTensors;
    g = snapshot(generator);
    d = snapshot(discriminator);
    expect(Number.isFinite(generatorStep())).toBe(true);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(changedNames(discriminator, d)).toEqual([]);
    expect(changedNames(generator, g).length).toBeGreaterThan(0);

    tf.dispose([real, z]);
    dOptimizer.dispose();
    gOptimizer.dispose();
    generator.dispose();
    discriminator.dispose();
  });
});

describe('whole-model gradients', () => {
  /** Loss and gradients of one D loss (with R1 where the model uses it) and one G loss. */
  function lossesAndGradients(name: string): Float32Array[] {
    const { generator, discriminator, real: toReal, r1 } = models[name]();
    try {
      return tf.tidy(() => {
        const real = toReal(
          padImagesTo(tf.randomUniform([2, 28, 28, 1], -1, 1, 'float32', 17), 32),
        );
        const z = seeded([2, latentDim], 18);
        // A fixed noise seed: both backends draw the same noise and mixing.
        const options = { training: true, seed: 19 };
        const dLoss = () => {
          const fake = generator.apply(z, options);
          const loss = discriminatorLoss(
            discriminator.apply(real, options),
            discriminator.apply(fake, options),
          );
          return r1 ? tf.add(loss, r1Penalty(discriminator, real)) : loss;
        };
        const gLoss = () =>
          generatorLoss(discriminator.apply(generator.apply(z, options), options));
        const d = tf.variableGrads(
          dLoss as () => tf.Scalar,
          discriminator.trainableVariables.map((v) => v.variable),
        );
        const g = tf.variableGrads(
          gLoss,
          generator.trainableVariables.map((v) => v.variable),
        );
        const flat = (grads: tf.NamedTensorMap) =>
          tf.concat(Object.values(grads).map((t) => tf.reshape(t, [-1])));
        return [d.value, flat(d.grads), g.value, flat(g.grads)].map(
          (t) => t.dataSync() as Float32Array,
        );
      });
    } finally {
      generator.dispose();
      discriminator.dispose();
    }
  }

  it.each(Object.keys(models))('%s: wasm agrees with the cpu backend', async (name) => {
    await useBackendForTests('cpu');
    const expected = lossesAndGradients(name);
    await useBackendForTests('wasm');
    const actual = lossesAndGradients(name);
    actual.forEach((values, i) => {
      let diff = 0;
      let scale = 0;
      values.forEach((v, j) => {
        diff = Math.max(diff, Math.abs(v - expected[i][j]));
        scale = Math.max(scale, Math.abs(expected[i][j]));
      });
      expect(scale).toBeGreaterThan(0);
      expect(diff).toBeLessThan(1e-4 * scale);
    });
  });
});

describe('R1 penalty', () => {
  it('has a weight gradient (second order) on wasm that matches finite differences', () => {
    const discriminator = buildStyleGan2Discriminator({ height: 8, width: 8, channels: 1 }, 2, 15);
    const variables = discriminator.trainableVariables.map((v) => v.variable);
    const real = seeded([2, 8, 8, 1], 16) as tf.Tensor4D;
    const penalty = () => r1Penalty(discriminator, real, { gamma: 1 });
    const directions = variables.map((v, i) => seeded(v.shape, 100 + i));

    const { value, grads } = tf.variableGrads(penalty, variables);
    const analytic = tf.tidy(
      () =>
        tf
          // The logit's bias does not change grad_x D, so it has no gradient at all.
          .addN(variables.map((v, i) => tf.sum(tf.mul(grads[v.name] ?? 0, directions[i]))))
          .dataSync()[0],
    );
    const originals = variables.map((v) => v.clone());
    const penaltyAt = (epsilon: number) => {
      variables.forEach((v, i) =>
        v.assign(tf.tidy(() => tf.add(originals[i], tf.mul(directions[i], epsilon)))),
      );
      return tf.tidy(() => penalty().dataSync()[0]);
    };
    // grad_x D jumps wherever a LeakyReLU input crosses 0, so the penalty is only piecewise
    // smooth in the weights: the step must be small enough to cross no kink (1e-3 already does
    // here), and float32 then limits the agreement to ~1e-3.
    const epsilon = 1e-4;
    const numeric = (penaltyAt(epsilon) - penaltyAt(-epsilon)) / (2 * epsilon);
    penaltyAt(0);

    expect(value.dataSync()[0]).toBeGreaterThan(0);
    expect(Math.abs(numeric - analytic)).toBeLessThan(1e-2 * Math.abs(analytic));
    tf.dispose([value, ...Object.values(grads), ...directions, ...originals, real]);
    discriminator.dispose();
  });
});
