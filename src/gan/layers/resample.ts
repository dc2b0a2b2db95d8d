/**
 * 2x nearest-neighbour upsampling and 2x2 average downsampling written as reshapes, a broadcast
 * product and a mean. tfjs's ResizeNearestNeighbor and AvgPool have no second-order gradient on
 * any backend (R1 differentiates D's gradient), and the cpu backend's ResizeNearestNeighborGrad
 * is wrong for batches above 1; the ops used here have exact gradients of every order. On wasm
 * the broadcast's gradient (a sum) runs ~100x faster than that of the same upsampling by concat,
 * whose 6-D slices are slow.
 */
import * as tf from '@tensorflow/tfjs';

/** Each pixel becomes a 2x2 block: [N, H, W, C] -> [N, 2H, 2W, C]. */
export function upsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const blocks = tf.mul(tf.reshape(x, [n, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1]));
  return tf.reshape(blocks, [n, 2 * h, 2 * w, c]);
}

/** Each 2x2 block becomes its mean: [N, H, W, C] -> [N, H/2, W/2, C], H and W even. */
export function downsample2x(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.mean(tf.reshape(x, [n, h / 2, 2, w / 2, 2, c]), [2, 4]);
}

/** Repeated 2x downsampling from a power-of-two side to `side`. */
export function downsampleTo(x: tf.Tensor4D, side: number): tf.Tensor4D {
  let y = x;
  while (y.shape[1] > side) y = downsample2x(y);
  return y;
}

/** The smallest power of two at least as large as both sides (28x28 -> 32). */
export function powerOfTwoSide(height: number, width: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(height, width)));
}

/**
 * Pads images centred to `side` x `side` with `fill`: -1 is the background of digits scaled to
 * [-1, 1], so padded MNIST stays black to the edge (28 -> 32 adds 2 pixels each side).
 */
export function padImagesTo(images: tf.Tensor4D, side: number, fill = -1): tf.Tensor4D {
  const [, h, w] = images.shape;
  const top = Math.floor((side - h) / 2);
  const left = Math.floor((side - w) / 2);
  const paddings: [number, number][] = [
    [0, 0],
    [top, side - h - top],
    [left, side - w - left],
    [0, 0],
  ];
  return tf.pad(images, paddings, fill);
}
