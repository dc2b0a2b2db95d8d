/**
 * The shape every hand-built network (Progressive GAN, StyleGAN, StyleGAN2) shares: named
 * variables for checkpoints and optimizers, and an `apply` that maps a batch to a batch. Unlike a
 * tf.LayersModel, a network may keep state that is not trained (a fade-in phase, a running mean
 * of w) and draws its own seeded randomness.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../random.js';

export interface ApplyOptions {
  /** Training mode: state such as running averages moves, and regularizers like mixing run. */
  training: boolean;
}

export interface TrainableNetwork<Options extends ApplyOptions = ApplyOptions> {
  readonly name: string;
  /** Trainable variables by stable name (checkpoint keys). */
  readonly trainable: ReadonlyMap<string, tf.Variable>;
  /** Non-trainable state by stable name (e.g. a fade-in phase, w_avg for truncation). */
  readonly state: ReadonlyMap<string, tf.Variable>;
  apply(input: tf.Tensor, options: Options): tf.Tensor;
  dispose(): void;
}

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

/**
 * Runs `update` and then puts back the state of `network`: a forward pass in training mode moves
 * running averages, and the network that is not being trained in a step must not move.
 */
export function keepingState<T>(network: Pick<TrainableNetwork, 'state'>, update: () => T): T {
  const saved = [...network.state.values()].map((v) => [v, v.clone()] as const);
  try {
    return update();
  } finally {
    for (const [variable, value] of saved) {
      variable.assign(value);
      value.dispose();
    }
  }
}
