/**
 * Sets of images for the metrics, as `ganforge metric` reads them: a directory of PNG files, or
 * a .npy array of images, uint8 [N, H, W] or [N, H, W, C] with values 0-255, or float32/float64
 * of the same shapes with values in [0, 1]. C is 1, 3 or 4; an alpha channel is composited over
 * black, the background of the built-in datasets. A set whose pixels all have R = G = B is
 * grayscale (one channel), whatever its files' colour type.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { PNG } from 'pngjs';
import { GanforgeError } from '../errors.js';
import type { NpyHeader } from './feature-files.js';
import type { FeatureMatrix } from './feature-matrix.js';

type Pixels = Uint8Array | Float32Array | Float64Array;

export interface ImageSet {
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** NHWC; a Uint8Array holds 0-255, a float array values in [0, 1]. */
  pixels: Pixels;
}

/** Every file of `dir` must be a PNG (by name and content), and all of one size. */
export async function readPngDirectory(dir: string): Promise<ImageSet> {
  const names = (await readdir(dir, { withFileTypes: true })).sort((x, y) =>
    x.name < y.name ? -1 : x.name > y.name ? 1 : 0,
  );
  if (names.length === 0) throw badImages(dir, 'holds no PNG files');
  const images: PNG[] = [];
  for (const entry of names) {
    const file = join(dir, entry.name);
    if (!entry.isFile() || extname(entry.name).toLowerCase() !== '.png') {
      throw badImages(file, 'is not a PNG file; an image folder must hold PNG files only');
    }
    try {
      images.push(PNG.sync.read(await readFile(file)));
    } catch (err) {
      throw badImages(file, `cannot be decoded as PNG: ${(err as Error).message}`);
    }
    const [first, last] = [images[0], images[images.length - 1]];
    if (last.width !== first.width || last.height !== first.height) {
      throw badImages(
        file,
        `is ${last.width}x${last.height}, but ${names[0].name} is ${first.width}x${first.height}: ` +
          'all images of a set must share a size',
      );
    }
  }
  const { width, height } = images[0];
  const size = width * height * 4;
  const rgba = new Uint8Array(images.length * size);
  images.forEach((png, i) => rgba.set(png.data, i * size));
  return grayOrRgb({ count: images.length, height, width, channels: 4, pixels: rgba });
}

/** A 3-D or 4-D .npy of images (see the file comment); `header` comes from readNpyHeader. */
export function decodeImageNpy(bytes: Buffer, header: NpyHeader, path: string): ImageSet {
  const { descr, shape, dataStart } = header;
  const type = /^([<>|=])(u1|f4|f8)$/.exec(descr);
  const [count, height, width, channels = 1] = shape;
  if (type === null || (channels !== 1 && channels !== 3 && channels !== 4)) {
    throw badImages(
      path,
      `must hold uint8, float32 or float64 images [N, H, W] or [N, H, W, C] with C = 1, 3 or 4, ` +
        `not ${descr} [${shape}]`,
    );
  }
  if (header.fortranOrder) throw badImages(path, 'is in Fortran order; save it in C order');
  if (count === 0) throw badImages(path, 'holds no images');
  const length = count * height * width * channels;
  const bytesPerValue = type[2] === 'u1' ? 1 : Number(type[2][1]);
  if (bytes.length < dataStart + length * bytesPerValue) throw badImages(path, 'is truncated');

  const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart, length * bytesPerValue);
  const littleEndian = type[1] !== '>';
  let pixels: Pixels;
  if (type[2] === 'u1') {
    pixels = new Uint8Array(bytes.buffer, bytes.byteOffset + dataStart, length).slice();
  } else {
    pixels = type[2] === 'f4' ? new Float32Array(length) : new Float64Array(length);
    for (let k = 0; k < length; k++) {
      const value =
        type[2] === 'f4'
          ? view.getFloat32(k * 4, littleEndian)
          : view.getFloat64(k * 8, littleEndian);
      if (!(value >= 0 && value <= 1)) {
        throw badImages(
          path,
          `holds ${value} at value ${k}: float images must lie in [0, 1] (0-255 goes as uint8)`,
        );
      }
      pixels[k] = value;
    }
  }
  return grayOrRgb({ count, height, width, channels, pixels });
}

/**
 * The images as an extractor takes them: NHWC in [-1, 1], one channel for `grayscale` (colour
 * by ITU-R BT.601 luma), else as the set is. uint8 v becomes v / 127.5 - 1, the scaling of the
 * built-in datasets, so PNGs of dataset images give bit-identical input.
 */
export function extractorInput(set: ImageSet, grayscale: boolean): Float32Array {
  const scale = set.pixels instanceof Uint8Array ? 127.5 : 0.5;
  const pixelCount = set.count * set.height * set.width;
  if (!grayscale || set.channels === 1) {
    return Float32Array.from(set.pixels, (v) => v / scale - 1);
  }
  const out = new Float32Array(pixelCount);
  for (let p = 0; p < pixelCount; p++) {
    const [r, g, b] = set.pixels.subarray(p * 3, p * 3 + 3);
    out[p] = (0.299 * r + 0.587 * g + 0.114 * b) / scale - 1;
  }
  return out;
}

/** One row per image of its pixels in [0, 1], flattened HWC: what the Parzen window takes. */
export function unitPixels(set: ImageSet): FeatureMatrix {
  const unit = set.pixels instanceof Uint8Array ? 255 : 1;
  return {
    rows: set.count,
    cols: set.height * set.width * set.channels,
    data: Float64Array.from(set.pixels, (v) => v / unit),
  };
}

interface RawImages extends Omit<ImageSet, 'channels'> {
  channels: number;
}

/** Composites alpha over black and keeps one channel when every pixel is gray. */
function grayOrRgb(raw: RawImages): ImageSet {
  const { pixels, channels } = raw;
  if (channels === 1) return { ...raw, channels: 1 };
  const pixelCount = raw.count * raw.height * raw.width;
  const unit = pixels instanceof Uint8Array ? 255 : 1;
  const rgb = pixels.slice(0, pixelCount * 3);
  let gray = true;
  for (let p = 0; p < pixelCount; p++) {
    const alpha = channels === 4 ? pixels[p * 4 + 3] / unit : 1;
    for (let c = 0; c < 3; c++) {
      const value = pixels[p * channels + c] * alpha;
      rgb[p * 3 + c] = unit === 255 ? Math.round(value) : value;
    }
    gray &&= rgb[p * 3] === rgb[p * 3 + 1] && rgb[p * 3] === rgb[p * 3 + 2];
  }
  if (!gray) return { ...raw, channels: 3, pixels: rgb };
  const single = pixels.slice(0, pixelCount);
  for (let p = 0; p < pixelCount; p++) single[p] = rgb[p * 3];
  return { ...raw, channels: 1, pixels: single };
}

function badImages(path: string, problem: string): GanforgeError {
  return new GanforgeError('GANFORGE_ERR_METRIC_INPUT', `${path} ${problem}`, { path });
}
