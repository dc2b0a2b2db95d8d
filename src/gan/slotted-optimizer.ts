/**
 * The part our optimizers share: a fixed list of variables, each with named slot variables
 * (Adam's moments, RMSProp's mean square), and a whole state of the step count and the slots that
 * is read and written synchronously and exactly, so a resumed run continues bit for bit.
 */
import * as tf from '@tensorflow/tfjs';

/** The element type of tf.Optimizer's getWeights() list (not re-exported by the tfjs bundle). */
type NamedTensor = { name: string; tensor: tf.Tensor };

export type OptimizerKind = 'adam' | 'rmsprop';

/** One saved state tensor: a per-variable slot such as a moment estimate. */
export interface OptimizerSlot {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface OptimizerState {
  /** Absent in checkpoints written before RMSProp existed, which were all Adam. */
  kind?: OptimizerKind;
  /** Updates applied so far. */
  iterations: number;
  /** Every variable's first slot, then every variable's second slot ..., named `<var>/<slot>`. */
  slots: OptimizerSlot[];
}

interface Slots {
  variable: tf.Variable;
  values: tf.Variable[];
}

export abstract class SlottedOptimizer extends tf.Optimizer {
  protected readonly slots = new Map<string, Slots>();
  private readonly slotNames: string[];

  /**
   * @param variables what this optimizer updates, in a fixed order (the order of saved slots).
   * @param names     a stable name per variable for saved slots; registered variable names carry
   *                  process-wide counters (`kernel_3`) and differ between processes.
   */
  protected constructor(
    readonly kind: OptimizerKind,
    private readonly slotKinds: readonly string[],
    variables: tf.Variable[],
    names?: string[],
  ) {
    super();
    this.slotNames = names ?? variables.map((variable) => variable.name);
    if (this.slotNames.length !== variables.length) {
      throw new RangeError(`${variables.length} variables but ${this.slotNames.length} names`);
    }
    for (const variable of variables) {
      const values = slotKinds.map(() => tf.tidy(() => tf.variable(tf.zerosLike(variable), false)));
      this.slots.set(variable.name, { variable, values });
    }
  }

  /**
   * The gradients by variable name, whichever form tf.Optimizer.minimize passes them in. A
   * variable the loss does not reach (a growing network's blocks above its current resolution)
   * has no gradient: it and its slots stay as they are.
   */
  protected static entries(
    gradients: tf.NamedTensorMap | NamedTensor[],
  ): (readonly [string, tf.Tensor])[] {
    const all = Array.isArray(gradients)
      ? gradients.map(({ name, tensor }) => [name, tensor] as const)
      : Object.entries(gradients);
    return all.filter(([, tensor]) => tensor != null);
  }

  protected slotsOf(name: string): Slots {
    const slot = this.slots.get(name);
    if (!slot) throw new RangeError(`variable ${name} is not one this optimizer updates`);
    return slot;
  }

  getState(): OptimizerState {
    const saved: OptimizerSlot[] = [];
    const all = [...this.slots.values()];
    this.slotKinds.forEach((kind, k) => {
      all.forEach((slot, i) => {
        saved.push({
          name: `${this.slotNames[i]}/${kind}`,
          shape: [...slot.values[k].shape],
          data: Float32Array.from(slot.values[k].dataSync()),
        });
      });
    });
    return { kind: this.kind, iterations: this.iterations, slots: saved };
  }

  /** Restores a state from getState(); names and shapes must match this optimizer's variables. */
  setState(state: OptimizerState): void {
    const all = [...this.slots.values()];
    if ((state.kind ?? 'adam') !== this.kind) {
      throw new RangeError(`a ${state.kind ?? 'adam'} state does not fit ${this.kind}`);
    }
    if (!Number.isSafeInteger(state.iterations) || state.iterations < 0) {
      throw new RangeError(`bad iteration count ${state.iterations}`);
    }
    const expected = this.slotKinds.length * all.length;
    if (state.slots.length !== expected) {
      throw new RangeError(`expected ${expected} optimizer slots, got ${state.slots.length}`);
    }
    const updates: [tf.Variable, OptimizerSlot][] = [];
    this.slotKinds.forEach((kind, k) => {
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
        updates.push([slot.values[k], saved]);
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
      kind: this.kind,
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

  override dispose(): void {
    for (const slot of this.slots.values()) tf.dispose(slot.values);
    this.slots.clear();
  }
}
