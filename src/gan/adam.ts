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

/** The element type of tf.Optimizer's getWeights() list (not re-exported by the tfjs bundle). */
type NamedTensor = { name: string; tensor: tf.Tensor };

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  /** Default 1e-7, the TF.js float32 default; written down so it never follows the backend. */
  epsilon?: number;
}

/** One saved state tensor: the optimizer's iteration count or a per-variable moment. */
export interface OptimizerSlot {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface AdamState {
  /** Updates applied so far (t in the update rule). */
  iterations: number;
  /** First moments of every variable, then second moments, named `<variable>/m` and `/v`. */
  slots: OptimizerSlot[];
}

interface Moments {
  variable: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
}

export class Adam extends tf.Optimizer {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly moments = new Map<string, Moments>();
  private readonly slotNames: string[];

  /**
   * @param variables what this optimizer updates, in a fixed order (the order of saved slots).
   * @param names     a stable name per variable for saved slots; registered variable names carry
   *                  process-wide counters (`kernel_3`) and differ between processes.
   */
  constructor(variables: tf.Variable[], options: AdamOptions, names?: string[]) {
    super();
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1;
    this.beta2 = options.beta2;
    this.epsilon = options.epsilon ?? 1e-7;
    this.slotNames = names ?? variables.map((variable) => variable.name);
    if (this.slotNames.length !== variables.length) {
      throw new RangeError(`${variables.length} variables but ${this.slotNames.length} names`);
    }
    for (const variable of variables) {
      this.moments.set(variable.name, {
        variable,
        m: tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
        v: tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
      });
    }
  }

  override applyGradients(gradients: tf.NamedTensorMap | NamedTensor[]): void {
    const named = Array.isArray(gradients)
      ? gradients.map(({ name, tensor }) => [name, tensor] as const)
      : Object.entries(gradients);
    const t = this.iterations + 1;
    const correction1 = 1 - this.beta1 ** t;
    const correction2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      for (const [name, gradient] of named) {
        const slot = this.moments.get(name);
        if (!slot) throw new RangeError(`variable ${name} is not one this optimizer updates`);
        const m = slot.m.mul(this.beta1).add(gradient.mul(1 - this.beta1));
        const v = slot.v.mul(this.beta2).add(gradient.square().mul(1 - this.beta2));
        slot.m.assign(m);
        slot.v.assign(v);
        const step = m
          .div(correction1)
          .div(v.div(correction2).sqrt().add(this.epsilon))
          .mul(this.learningRate);
        slot.variable.assign(slot.variable.sub(step));
      }
    });
    this.incrementIterations();
  }

  getState(): AdamState {
    const slots: OptimizerSlot[] = [];
    const all = [...this.moments.values()];
    for (const kind of ['m', 'v'] as const) {
      all.forEach((slot, i) => {
        slots.push({
          name: `${this.slotNames[i]}/${kind}`,
          shape: [...slot[kind].shape],
          data: Float32Array.from(slot[kind].dataSync()),
        });
      });
    }
    return { iterations: this.iterations, slots };
  }

  /** Restores a state from getState(); names and shapes must match this optimizer's variables. */
  setState(state: AdamState): void {
    const all = [...this.moments.values()];
    if (!Number.isSafeInteger(state.iterations) || state.iterations < 0) {
      throw new RangeError(`bad iteration count ${state.iterations}`);
    }
    if (state.slots.length !== 2 * all.length) {
      throw new RangeError(`expected ${2 * all.length} optimizer slots, got ${state.slots.length}`);
    }
    const updates: [tf.Variable, OptimizerSlot][] = [];
    (['m', 'v'] as const).forEach((kind, k) => {
      all.forEach((slot, i) => {
        const saved = state.slots[k * all.length + i];
        const name = `${this.slotNames[i]}/${kind}`;
        const sameShape =
          saved.shape.length === slot.variable.rank &&
          saved.shape.every((d, axis) => d === slot.variable.shape[axis]);
        if (saved.name !== name || !sameShape || saved.data.length !== slot.variable.size) {
          throw new RangeError(
            `optimizer slot ${saved.name} [${saved.shape}] does not fit ${name}`,
          );
        }
        updates.push([slot[kind], saved]);
      });
    });
    for (const [variable, saved] of updates) {
      tf.tidy(() => variable.assign(tf.tensor(saved.data, saved.shape, 'float32')));
    }
    this.iterations_ = state.iterations;
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const { iterations, slots } = this.getState();
    return [
      { name: 'iter', tensor: tf.scalar(iterations, 'int32') },
      ...slots.map(({ name, shape, data }) => ({ name, tensor: tf.tensor(data, shape) })),
    ];
  }

  override async setWeights(weights: NamedTensor[]): Promise<void> {
    const [iter, ...slots] = weights;
    this.setState({
      iterations: (await iter.tensor.data())[0],
      slots: await Promise.all(
        slots.map(async ({ name, tensor }) => ({
          name,
          shape: [...tensor.shape],
          data: Float32Array.from(await tensor.data()),
        })),
      ),
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
    };
  }

  override dispose(): void {
    for (const slot of this.moments.values()) tf.dispose([slot.m, slot.v]);
    this.moments.clear();
  }
}
