/**
 * The per-dataset classifier behind ganforge's own IS and FID: a small LeNet-style convnet
 * (LeCun et al. 1998) of two 5x5 stride-2 convolutions (16 and 32 channels; strides instead of
 * max pooling, as in the all-convolutional net of Springenberg et al. 2015, because our wasm
 * engine computes pooling gradients slowly), a 128-unit hidden layer and a softmax over the classes. The hidden layer's activations are the features (FID, KID,
 * precision/recall), the softmax the class probabilities (IS), as in the MNIST evaluations of
 * the GAN literature (e.g. the mode-collapse studies of Lucic et al. 2018).
 *
 * Built from raw ops over a fixed list of parameters (no tf.layers), so the weights file is just
 * the parameters in this order and their initial values come from our seeded RNG, not from tfjs'.
 */
import * as tf from '@tensorflow/tfjs';
import { Random, deriveSeed } from '../../gan/random.js';

/** Input side: 28x28x1 in [-1, 1], the shape of the built-in datasets. */
export const classifierSide = 28;
export const classifierFeatureDims = 128;
/** Recorded in the manifest: a stored classifier of another architecture is trained again. */
export const classifierArchitecture = 'conv5s2-16/conv5s2-32/dense-128/softmax';

export interface ParameterSpec {
  name: string;
  shape: number[];
}

/** The parameters in weights-file order. */
export function classifierParameterSpecs(classes: number): ParameterSpec[] {
  return [
    { name: 'conv1/kernel', shape: [5, 5, 1, 16] },
    { name: 'conv1/bias', shape: [16] },
    { name: 'conv2/kernel', shape: [5, 5, 16, 32] },
    { name: 'conv2/bias', shape: [32] },
    { name: 'hidden/kernel', shape: [7 * 7 * 32, classifierFeatureDims] },
    { name: 'hidden/bias', shape: [classifierFeatureDims] },
    { name: 'logits/kernel', shape: [classifierFeatureDims, classes] },
    { name: 'logits/bias', shape: [classes] },
  ];
}

export interface ClassifierParameters {
  specs: ParameterSpec[];
  variables: tf.Variable[];
}

/**
 * He-normal kernels (He et al. 2015: stddev sqrt(2 / fan_in), for ReLU layers) and zero biases,
 * each kernel from its own stream of `seed`.
 */
export function initialClassifierParameters(classes: number, seed: number): ClassifierParameters {
  const specs = classifierParameterSpecs(classes);
  const variables = specs.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (shape.length === 1) return tf.variable(tf.zeros(shape), true);
    const fanIn = size / shape[shape.length - 1];
    const values = new Random(deriveSeed(seed, name)).normals(size);
    const scale = Math.sqrt(2 / fanIn);
    for (let i = 0; i < size; i++) values[i] *= scale;
    return tf.variable(tf.tensor(values, shape), true);
  });
  return { specs, variables };
}

/** Parameters from the weights file's float32 values (the layout of classifierParameterSpecs). */
export function classifierParametersFromValues(
  classes: number,
  values: Float32Array,
): ClassifierParameters {
  const specs = classifierParameterSpecs(classes);
  let offset = 0;
  const variables = specs.map(({ shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const tensor = tf.tensor(values.subarray(offset, offset + size), shape);
    offset += size;
    const variable = tf.variable(tensor, false);
    tensor.dispose();
    return variable;
  });
  if (offset !== values.length) {
    tf.dispose(variables);
    throw new RangeError(`${values.length} weights for a classifier of ${offset}`);
  }
  return { specs, variables };
}

/** Every parameter's values, concatenated in spec order: the weights file. */
export async function classifierParameterValues(
  params: ClassifierParameters,
): Promise<Float32Array> {
  const parts = await Promise.all(params.variables.map((v) => v.data() as Promise<Float32Array>));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export interface ClassifierOutputs {
  /** [N, 128], after the ReLU. */
  features: tf.Tensor2D;
  /** [N, classes], before the softmax. */
  logits: tf.Tensor2D;
}

/**
 * The network on [N, 28, 28, 1] images in [-1, 1]. `dropoutMask` ([N, 128], training only)
 * scales the hidden units on their way to the logits; the features are returned unmasked.
 */
export function classifierForward(
  params: ClassifierParameters,
  images: tf.Tensor4D,
  dropoutMask?: tf.Tensor2D,
): ClassifierOutputs {
  const [w1, b1, w2, b2, w3, b3, w4, b4] = params.variables;
  return tf.tidy(() => {
    let h = tf.relu(tf.conv2d(images, w1 as tf.Tensor4D, 2, 'same').add(b1)) as tf.Tensor4D;
    h = tf.relu(tf.conv2d(h, w2 as tf.Tensor4D, 2, 'same').add(b2)) as tf.Tensor4D;
    const flat = h.reshape([h.shape[0], -1]) as tf.Tensor2D;
    const features = tf.relu(tf.matMul(flat, w3 as tf.Tensor2D).add(b3)) as tf.Tensor2D;
    const kept = dropoutMask ? features.mul(dropoutMask) : features;
    const logits = tf.matMul(kept as tf.Tensor2D, w4 as tf.Tensor2D).add(b4) as tf.Tensor2D;
    return { features, logits };
  });
}
