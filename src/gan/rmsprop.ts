/**
 * RMSProp (Tieleman & Hinton 2012, Lecture 6.5) as the WGAN reference code uses it (PyTorch's
 * RMSprop without momentum; Arjovsky et al. 2017 chose it over Adam because momentum made the
 * clipped critic unstable): ms = rho ms + (1 - rho) g^2; w -= lr * g / (sqrt(ms) + eps), with
 * PyTorch's defaults rho = 0.99 and eps = 1e-8. The state is the step count and ms, restored
 * exactly as Adam's is (see slotted-optimizer.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { SlottedOptimizer, type OptimizerState } from './slotted-optimizer.js';

export interface RmsPropOptions {
  learningRate: number;
  /** Decay of the mean square, default 0.99. */
  rho?: number;
  /** Default 1e-8. */
  epsilon?: number;
}

/** Slots `<variable>/ms`. */
export type RmsPropState = OptimizerState;

export class RmsProp extends SlottedOptimizer {
  readonly learningRate: number;
  readonly rho: number;
  readonly epsilon: number;

  /** See SlottedOptimizer for `variables` and `names`. */
  constructor(variables: tf.Variable[], options: RmsPropOptions, names?: string[]) {
    super('rmsprop', ['ms'], variables, names);
    this.learningRate = options.learningRate;
    this.rho = options.rho ?? 0.99;
    this.epsilon = options.epsilon ?? 1e-8;
  }

  override applyGradients(gradients: Parameters<tf.Optimizer['applyGradients']>[0]): void {
    tf.tidy(() => {
      for (const [name, gradient] of SlottedOptimizer.entries(gradients)) {
        const { variable, values } = this.slotsOf(name);
        const [slotMs] = values;
        const ms = slotMs.mul(this.rho).add(gradient.square().mul(1 - this.rho));
        slotMs.assign(ms);
        const step = gradient.div(ms.sqrt().add(this.epsilon)).mul(this.learningRate);
        variable.assign(variable.sub(step));
      }
    });
    this.incrementIterations();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, rho: this.rho, epsilon: this.epsilon };
  }
}
