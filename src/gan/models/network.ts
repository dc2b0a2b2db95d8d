/**
 * What the trainer needs of a generator or a discriminator, whatever builds it: tf.layers models
 * (the MLP GAN and DCGAN, through `layersNetwork`), networks written as plain tensor functions
 * (the WGAN-GP critic), or hand-written blocks such as Progressive GAN or StyleGAN layers.
 *
 * The contract:
 * - Every variable a network owns is listed exactly once, in `trainableVariables` or in
 *   `stateVariables`, under a name that is stable across processes and unique within the network
 *   (`d_conv1/kernel`, `g_bn1/moving_mean`). Checkpoints, optimizer slots and the EMA copy of the
 *   generator are keyed by these names and by the order of the lists, so both must follow only
 *   from the architecture and its options, never from a process-wide counter (tf.Variable.name
 *   carries one).
 * - `trainableVariables` are what the optimizer of this network updates, in a fixed order.
 * - `stateVariables` are everything else that must survive a checkpoint: batch-norm moving
 *   statistics, a progressive-growing fade-in alpha, a StyleGAN's moving average of w. A forward
 *   pass with `training: true` may write them; the trainer puts them back when it runs a network
 *   that is not being trained, so a step leaves the other network bit for bit as it was.
 * - `apply` maps a batch to a batch (generator: z [N, latentDim] to images [N, H, W, C] in
 *   [-1, 1], NHWC; discriminator: images to one score per image, [N, 1], a logit or a critic
 *   value: no sigmoid). It must be a pure function of its input and its variables, seeded if it
 *   draws noise, so a run repeats exactly from its seed. It runs inside the trainer's tidy scopes
 *   and gradient tapes: it returns a new tensor and keeps no intermediate.
 * - For WGAN-GP, a discriminator's `apply` must be twice differentiable with respect to its
 *   input: use `leakyRelu` from ../activations.ts, not tf.leakyRelu; no resize or average pooling
 *   (TF.js has no second-order gradient through them); no batch norm (Gulrajani et al. 2017, 4).
 * - `dispose` frees every variable.
 */
import type * as tf from '@tensorflow/tfjs';

export interface NamedVariable {
  /** Stable, unique within the network, e.g. `d_conv1/kernel`. */
  name: string;
  variable: tf.Variable;
}

export interface ApplyOptions {
  /** True in a training step (batch statistics, state updates); false for sampling. */
  training: boolean;
}

export interface Network {
  /** `generator` or `discriminator`; used in error messages. */
  readonly name: string;
  readonly trainableVariables: readonly NamedVariable[];
  readonly stateVariables: readonly NamedVariable[];
  apply(input: tf.Tensor, options: ApplyOptions): tf.Tensor;
  dispose(): void;
}

/** Builds one network from the run seed; called again to make the EMA copy of a generator. */
export type NetworkFactory = () => Network;

/** Trainable variables, then state variables: everything a checkpoint holds of a network. */
export function allVariables(network: Network): NamedVariable[] {
  return [...network.trainableVariables, ...network.stateVariables];
}

/**
 * Runs `update` and then puts back the state variables of `network`: a forward pass in training
 * mode moves batch-norm moving statistics, and the network that is not being trained must not move.
 */
export function keepingState<T>(network: Network, update: () => T): T {
  const saved = network.stateVariables.map(({ variable }) => [variable, variable.clone()] as const);
  try {
    return update();
  } finally {
    for (const [variable, value] of saved) {
      variable.assign(value);
      value.dispose();
    }
  }
}

/** A tf.layers model as a Network; variables are named by their layer-scoped `originalName`. */
export class LayersNetwork implements Network {
  readonly trainableVariables: readonly NamedVariable[];
  readonly stateVariables: readonly NamedVariable[];

  constructor(readonly model: tf.LayersModel) {
    const named = (weights: tf.LayerVariable[]) =>
      weights.map((weight) => ({
        name: weight.originalName,
        variable: weight.read() as tf.Variable,
      }));
    this.trainableVariables = named(model.trainableWeights);
    this.stateVariables = named(model.nonTrainableWeights);
  }

  get name(): string {
    return this.model.name;
  }

  apply(input: tf.Tensor, options: ApplyOptions): tf.Tensor {
    return this.model.apply(input, { training: options.training }) as tf.Tensor;
  }

  dispose(): void {
    this.model.dispose();
  }
}

export function layersNetwork(model: tf.LayersModel): LayersNetwork {
  return new LayersNetwork(model);
}
