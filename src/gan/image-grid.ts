/**
 * Lays a batch of generated images out as one PNG grid (row-major, one tile per image, gray
 * gutters between tiles) for the run's sample stream and the dashboard.
 */
import type * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';

/** NHWC pixels in [-1, 1], as a tanh generator produces them. */
export interface ImageBatch {
  data: Float32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

export interface ImageGridOptions {
  /** Tiles per row; default ceil(sqrt(count)), a square grid for 16, 36, 64 ... images. */
  columns?: number;
  /** Gutter in pixels around and between tiles; default 2. */
  padding?: number;
}

export interface ImageGrid {
  png: Buffer;
  width: number;
  height: number;
}

/** Mid gray: visible against both the black background and the white strokes of digits. */
const gutterLevel = 128;

/** PNG colour types (PNG spec, section 11.2.2): 0 grayscale, 2 truecolour. */
const colorTypes: Partial<Record<number, 0 | 2>> = { 1: 0, 3: 2 };

function toBatch(images: tf.Tensor4D | ImageBatch): ImageBatch {
  if ('dataSync' in images) {
    const [count, height, width, channels] = images.shape;
    return { data: images.dataSync() as Float32Array, count, height, width, channels };
  }
  return images;
}

/** [-1, 1] -> [0, 255], rounded to nearest and clamped (a generator can overshoot slightly). */
function toByte(value: number): number {
  return Math.min(255, Math.max(0, Math.round((value + 1) * 127.5)));
}

export function renderImageGrid(
  images: tf.Tensor4D | ImageBatch,
  options: ImageGridOptions = {},
): ImageGrid {
  const { data, count, height, width, channels } = toBatch(images);
  const colorType = colorTypes[channels];
  if (colorType === undefined) throw new RangeError(`cannot render ${channels}-channel images`);
  if (data.length !== count * height * width * channels) {
    throw new RangeError(
      `${data.length} values do not make ${count} ${height}x${width}x${channels} images`,
    );
  }
  const columns = options.columns ?? Math.max(1, Math.ceil(Math.sqrt(count)));
  const padding = options.padding ?? 2;
  if (!Number.isInteger(columns) || columns < 1 || !Number.isInteger(padding) || padding < 0) {
    throw new RangeError(`bad grid layout: ${columns} columns, padding ${padding}`);
  }
  const rows = Math.max(1, Math.ceil(count / columns));
  const gridWidth = columns * width + (columns + 1) * padding;
  const gridHeight = rows * height + (rows + 1) * padding;

  const pixels = Buffer.alloc(gridWidth * gridHeight * channels, gutterLevel);
  const rowBytes = gridWidth * channels;
  for (let image = 0; image < count; image++) {
    const left = padding + (image % columns) * (width + padding);
    const top = padding + Math.floor(image / columns) * (height + padding);
    const source = image * height * width * channels;
    for (let y = 0; y < height; y++) {
      const out = (top + y) * rowBytes + left * channels;
      const from = source + y * width * channels;
      for (let i = 0; i < width * channels; i++) pixels[out + i] = toByte(data[from + i]);
    }
  }

  const png = new PNG({
    width: gridWidth,
    height: gridHeight,
    colorType,
    inputColorType: colorType,
    inputHasAlpha: false,
  });
  png.data = pixels;
  return {
    png: PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: false }),
    width: gridWidth,
    height: gridHeight,
  };
}
