/**
 * Seeded minibatch order: each epoch is a fresh Fisher-Yates shuffle (Knuth, TAOCP vol. 2,
 * Algorithm P) of all example indices, cut into full batches; the few examples left at the end of
 * an epoch are skipped, and a different few each epoch. The state is small (the RNG state at the
 * start of the epoch, the epoch and the position), so the permutation is rebuilt on restore
 * instead of being stored.
 */
import { Random, type RandomState } from '../gan/random.js';
import type { ImageDataset } from './mnist.js';

export interface BatchSamplerState {
  count: number;
  batchSize: number;
  epoch: number;
  /** Index into the current epoch's permutation of the next example to hand out. */
  position: number;
  /** RNG state just before the current epoch's permutation was drawn. */
  epochStart: RandomState;
}

export class BatchSampler {
  readonly count: number;
  readonly batchSize: number;
  private epoch = 0;
  private position = 0;
  private readonly rng: Random;
  private epochStart: RandomState;
  private order: Uint32Array;

  constructor(count: number, batchSize: number, seed: number) {
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > count) {
      throw new RangeError(`batch size ${batchSize} must be in [1, ${count}]`);
    }
    this.count = count;
    this.batchSize = batchSize;
    this.rng = new Random(seed);
    this.epochStart = this.rng.getState();
    this.order = this.shuffle();
  }

  static fromState(state: BatchSamplerState): BatchSampler {
    const sampler = new BatchSampler(state.count, state.batchSize, 0);
    sampler.setState(state);
    return sampler;
  }

  /** Indices of the next batch; a new epoch starts when fewer than a batch remain. */
  nextIndices(): Uint32Array {
    if (this.position + this.batchSize > this.count) {
      this.epoch += 1;
      this.position = 0;
      this.epochStart = this.rng.getState();
      this.order = this.shuffle();
    }
    const batch = this.order.slice(this.position, this.position + this.batchSize);
    this.position += this.batchSize;
    return batch;
  }

  getState(): BatchSamplerState {
    return {
      count: this.count,
      batchSize: this.batchSize,
      epoch: this.epoch,
      position: this.position,
      epochStart: structuredClone(this.epochStart),
    };
  }

  setState(state: BatchSamplerState): void {
    if (state.count !== this.count || state.batchSize !== this.batchSize) {
      throw new RangeError(
        `sampler state is for ${state.count} examples in batches of ${state.batchSize}`,
      );
    }
    if (!Number.isInteger(state.position) || state.position < 0 || state.position > this.count) {
      throw new RangeError(`bad sampler position ${state.position}`);
    }
    this.rng.setState(state.epochStart);
    this.epochStart = this.rng.getState();
    this.order = this.shuffle();
    this.epoch = state.epoch;
    this.position = state.position;
  }

  private shuffle(): Uint32Array {
    const order = new Uint32Array(this.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.nextInt(i + 1);
      const swap = order[i];
      order[i] = order[j];
      order[j] = swap;
    }
    return order;
  }
}

/**
 * Copies the images at `indices` into one NHWC Float32Array, ready for `tf.tensor4d`. With `side`
 * larger than the images, each is centred on a side x side canvas of background (-1, black after
 * scaling to [-1, 1]); padding keeps every pixel exact, where resizing would blur the strokes.
 */
export function gatherImages(
  dataset: ImageDataset,
  indices: Uint32Array,
  side?: number,
): Float32Array {
  const { height, width, channels } = dataset;
  const size = height * width * channels;
  if (side === undefined || (side === height && side === width)) {
    const out = new Float32Array(indices.length * size);
    indices.forEach((index, row) => {
      out.set(dataset.images.subarray(index * size, (index + 1) * size), row * size);
    });
    return out;
  }
  if (side < height || side < width)
    throw new RangeError(`cannot pad ${height}x${width} to ${side}`);
  const top = Math.floor((side - height) / 2);
  const left = Math.floor((side - width) / 2);
  const rowLength = width * channels;
  const out = new Float32Array(indices.length * side * side * channels).fill(-1);
  indices.forEach((index, n) => {
    for (let y = 0; y < height; y++) {
      const from = index * size + y * rowLength;
      const to = ((n * side + top + y) * side + left) * channels;
      out.set(dataset.images.subarray(from, from + rowLength), to);
    }
  });
  return out;
}
