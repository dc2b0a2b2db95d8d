import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { renderImageGrid } from '../../src/gan/image-grid.js';

describe('renderImageGrid', () => {
  it('tiles grayscale images with gutters and maps [-1, 1] to [0, 255]', async () => {
    await tf.setBackend('cpu');
    // Five 3x2 images, each a constant level, except image 0 whose pixel (y 1, x 0) is -1.
    const levels = [1, 0, -1, 0.5, -0.5];
    const data = new Float32Array(5 * 3 * 2);
    levels.forEach((level, i) => data.fill(level, i * 6, (i + 1) * 6));
    data[2] = -1;
    const images = tf.tensor4d(data, [5, 3, 2, 1]);

    const grid = renderImageGrid(images, { padding: 1 });
    images.dispose();

    // ceil(sqrt(5)) = 3 columns, 2 rows: 3*2 + 4*1 wide, 2*3 + 3*1 high.
    expect([grid.width, grid.height]).toEqual([10, 9]);
    expect(grid.png[25]).toBe(0); // IHDR colour type: grayscale
    const png = PNG.sync.read(grid.png);
    expect([png.width, png.height]).toEqual([10, 9]);
    const gray = (x: number, y: number): number => png.data[(y * png.width + x) * 4];
    expect(gray(0, 0)).toBe(128); // gutter
    expect(gray(1, 1)).toBe(255); // image 0 top-left, +1
    expect(gray(1, 2)).toBe(0); // image 0 (y 1, x 0), -1
    expect(gray(4, 1)).toBe(128); // image 1 (level 0): round(127.5) = 128
    expect(gray(7, 3)).toBe(0); // image 2, last row
    expect(gray(1, 5)).toBe(191); // image 3, 0.5 -> round(191.25)
    expect(gray(5, 7)).toBe(64); // image 4, -0.5 -> round(63.75)
    expect(gray(8, 6)).toBe(128); // empty sixth tile stays gutter gray
  });

  it('writes RGB from a plain array and clamps values outside [-1, 1]', () => {
    const data = new Float32Array([-1, 0, 1, 2, -3, 0.2]); // two 1x1 RGB images
    const grid = renderImageGrid(
      { data, count: 2, height: 1, width: 1, channels: 3 },
      { columns: 2, padding: 0 },
    );
    expect([grid.width, grid.height]).toEqual([2, 1]);
    expect(grid.png[25]).toBe(2); // IHDR colour type: truecolour
    const png = PNG.sync.read(grid.png);
    expect(Array.from(png.data)).toEqual([0, 128, 255, 255, 255, 0, 153, 255]);
  });

  it('rejects channel counts PNG has no plain colour type for', () => {
    const data = new Float32Array(4);
    expect(() => renderImageGrid({ data, count: 1, height: 1, width: 2, channels: 2 })).toThrow(
      RangeError,
    );
  });
});
