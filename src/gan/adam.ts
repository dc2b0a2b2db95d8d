/**
 * Adam (Kingma & Ba 2015, Algorithm 1) bound to a fixed list of variables, whose whole state is the
 * step count and the two moment estimates, readable and writable synchronously for checkpoints.
 *
 * Why not tf.train.adam: it keeps the bias-correction products beta^t as float32 variables that it
 * multiplies once per step, and its setWeights rebuilds them with pow(), which rounds differently;
 * a resumed run then drifts from the uninterrupted one in the last bits. Here 1 - beta^t comes
 * from the step count in float64 at every step, so a restored optimizer continues bit for bit.
 *
 * Update (the same epsilon placement as TF.js): m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), t counting applied steps from 1.
 */
import * as tf from '@tensorflow/tfjs';
import { SlottedOptimizer, type OptimizerState } from './slotted-optimizer.js';

export type { OptimizerSlot } from './slotted-optimizer.js';

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  /** Default 1e-7, the TF.js float32 default; written down so it never follows the backend. */
  epsilon?: number;
}

/** Slots `<variable>/m` for every variable, then `<variable>/v`. */
export type AdamState = OptimizerState;

export class Adam extends SlottedOptimizer {
  /** Read at every step, so a caller may follow a schedule by changing it between steps. */
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  /** See SlottedOptimizer for `variables` and `names`. */
  constructor(variables: tf.Variable[], options: AdamOptions, names?: string[]) {
    super('adam', ['m', 'v'], variables, names);
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1;
    this.beta2 = options.beta2;
    this.epsilon = options.epsilon ?? 1e-7;
  }

  override applyGradients(gradients: Parameters<tf.Optimizer['applyGradients']>[0]): void {
    const t = this.iterations + 1;
    const correction1 = 1 - this.beta1 ** t;
    const correction2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      for (const [name, gradient] of SlottedOptimizer.entries(gradients)) {
        const { variable, values } = this.slotsOf(name);
        const [slotM, slotV] = values;
        const m = slotM.mul(this.beta1).add(gradient.mul(1 - this.beta1));
        const v = slotV.mul(this.beta2).add(gradient.square().mul(1 - this.beta2));
        slotM.assign(m);
        slotV.assign(v);
        const step = m
          .div(correction1)
          .div(v.div(correction2).sqrt().add(this.epsilon))
          .mul(this.learningRate);
        variable.assign(variable.sub(step));
      }
    });
    this.incrementIterations();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
    };
  }
}
