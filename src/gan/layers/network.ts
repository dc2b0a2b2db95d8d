/**
 * Variables of the hand-built networks (Progressive GAN, StyleGAN, StyleGAN2), which are `Network`s
 * (models/network.ts) like every other: a store names each variable stably and lists them for
 * checkpoints and optimizers.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedVariable } from '../models/network.js';
import { deriveSeed } from '../random.js';

/**
 * Owns a network's variables. Each trainable variable draws its initial values from its own
 * stream of the network seed (`deriveSeed(seed, name)`), so adding a layer never changes the
 * initial weights of the others. tfjs variable names are process-global, so the stable names are
 * map keys and the tf.Variable keeps an automatic one.
 */
export class VariableStore {
  readonly trainable = new Map<string, tf.Variable>();
  readonly state = new Map<string, tf.Variable>();

  constructor(private readonly seed: number) {}

  /** A trainable variable drawn from N(0, stddev^2). */
  normal(name: string, shape: number[], stddev = 1): tf.Variable {
    const seed = deriveSeed(this.seed, name);
    return this.add(this.trainable, name, tf.randomNormal(shape, 0, stddev, 'float32', seed));
  }

  /** A trainable variable filled with `value`. */
  filled(name: string, shape: number[], value: number): tf.Variable {
    return this.add(this.trainable, name, tf.fill(shape, value));
  }

  /** A non-trainable variable filled with `value`. */
  stateFilled(name: string, shape: number[], value: number): tf.Variable {
    return this.add(this.state, name, tf.fill(shape, value));
  }

  /** Trainable variables in definition order, as a `Network` lists them. */
  get trainableVariables(): NamedVariable[] {
    return named(this.trainable);
  }

  /** Non-trainable state in definition order. */
  get stateVariables(): NamedVariable[] {
    return named(this.state);
  }

  dispose(): void {
    for (const v of [...this.trainable.values(), ...this.state.values()]) v.dispose();
    this.trainable.clear();
    this.state.clear();
  }

  private add(into: Map<string, tf.Variable>, name: string, init: tf.Tensor): tf.Variable {
    if (this.trainable.has(name) || this.state.has(name)) {
      init.dispose();
      throw new Error(`variable '${name}' is defined twice`);
    }
    const variable = tf.variable(init, into === this.trainable);
    init.dispose();
    into.set(name, variable);
    return variable;
  }
}

function named(variables: ReadonlyMap<string, tf.Variable>): NamedVariable[] {
  return [...variables].map(([name, variable]) => ({ name, variable }));
}
