/**
 * Per-layer noise inputs (StyleGAN, Karras et al. 2019, section 3.2): one N(0, 1) image per
 * sample, broadcast to every feature map with a learned per-channel scale that starts at zero, so
 * the network chooses how much stochastic detail each layer adds.
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../random.js';
import type { VariableStore } from './network.js';

export class NoiseInjection {
  private readonly scale: tf.Variable;

  constructor(store: VariableStore, name: string, channels: number) {
    this.scale = store.filled(`${name}/noise_scale`, [channels], 0);
  }

  /** `noise` is [N, H, W, 1]. */
  apply(x: tf.Tensor4D, noise: tf.Tensor4D): tf.Tensor4D {
    return tf.add(x, tf.mul(noise, this.scale));
  }
}

/** A seeded noise image per sample, [N, H, W, 1]; `random` advances by one draw. */
export function noiseImages(random: Random, n: number, h: number, w: number): tf.Tensor4D {
  return tf.randomNormal([n, h, w, 1], 0, 1, 'float32', random.nextUint32());
}
