/**
 * The style side of StyleGAN and StyleGAN2 (Karras et al. 2019, section 2 and appendix B/C):
 * the mapping network z -> w, the tracked average of w for the truncation trick, and style mixing.
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../random.js';
import { twiceDifferentiableLeakyRelu } from './activations.js';
import { EqualizedDense } from './equalized.js';
import type { VariableStore } from './network.js';
import { pixelNorm } from './normalization.js';

/** StyleGAN's mapping network learns 100x slower than the rest (appendix C). */
export const mappingLrMultiplier = 0.01;

/** EMA decay of w_avg per training forward pass, as in the authors' code. */
export const styleAverageDecay = 0.995;

/** Share of training batches that mix two styles (section 3.1; the authors' default). */
export const defaultMixingProbability = 0.9;

export interface StyleMappingOptions {
  latentDim: number;
  styleDim: number;
  /** Fully connected layers; the paper uses 8, a small default suits 32x32 digits. */
  depth: number;
}

export interface StyleOptions {
  training: boolean;
  /**
   * Truncation psi (section 4 / appendix B): w' = w_avg + psi (w - w_avg). 1 leaves w unchanged,
   * 0 gives the image of the average w; default 1. Applied to every layer.
   */
  psi?: number;
  /** Chance a training batch mixes two styles; default 0.9 in training, 0 otherwise. */
  mixingProbability?: number;
}

export class StyleMapping {
  private readonly layers: EqualizedDense[] = [];
  private readonly average: tf.Variable;

  constructor(store: VariableStore, options: StyleMappingOptions) {
    const { latentDim, styleDim, depth } = options;
    for (let i = 0; i < depth; i++) {
      const inUnits = i === 0 ? latentDim : styleDim;
      this.layers.push(
        new EqualizedDense(store, `mapping/dense${i}`, inUnits, styleDim, {
          lrMultiplier: mappingLrMultiplier,
        }),
      );
    }
    this.average = store.stateFilled('mapping/w_avg', [styleDim], 0);
  }

  /** z [N, latentDim] -> w [N, styleDim]; z is pixel-normed first, as in the authors' code. */
  map(z: tf.Tensor2D): tf.Tensor2D {
    let h = pixelNorm(z);
    for (const layer of this.layers) h = twiceDifferentiableLeakyRelu(layer.apply(h));
    return h;
  }

  /**
   * One w per synthesis layer ([N, styleDim] each). In training, w_avg follows the batch mean of
   * w, and with probability `mixingProbability` a second latent from `random` takes over from a
   * random crossover layer on (style mixing regularization, section 3.1).
   */
  styles(z: tf.Tensor2D, layerCount: number, options: StyleOptions, random: Random): tf.Tensor2D[] {
    const { training, psi = 1 } = options;
    const mixing = options.mixingProbability ?? (training ? defaultMixingProbability : 0);
    const w = this.map(z);
    if (training) this.track(w);

    let styles = new Array<tf.Tensor2D>(layerCount).fill(w);
    if (mixing > 0 && layerCount > 1 && random.next() < mixing) {
      const crossover = 1 + random.nextInt(layerCount - 1);
      const [n, latentDim] = z.shape;
      const other = this.map(tf.tensor2d(random.normals(n * latentDim), [n, latentDim]));
      styles = styles.map((s, layer) => (layer < crossover ? s : other));
    }
    if (psi === 1) return styles;
    return styles.map((s) => tf.add(this.average, tf.mul(tf.sub(s, this.average), psi)));
  }

  private track(w: tf.Tensor2D): void {
    const batchMean = tf.mean(w, 0);
    this.average.assign(
      tf.add(tf.mul(this.average, styleAverageDecay), tf.mul(batchMean, 1 - styleAverageDecay)),
    );
  }
}
