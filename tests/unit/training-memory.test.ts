import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

/**
 * 100 steps of a small DCGAN (GanTrainer, width 8, batch 8, 28x28x1) on wasm, in a child process
 * started with --expose-gc: garbage V8 has not yet collected would otherwise look like growth.
 * Warm-up steps first, so the wasm heap and the kernels' operator caches reach their size.
 */
const script = `
  import * as tf from '@tensorflow/tfjs';
  import { initEngine } from './src/gan/engine.ts';
  import { Random } from './src/gan/random.ts';
  import { trainingDefaults } from './src/gan/training-config.ts';
  import { GanTrainer } from './src/gan/training.ts';

  await initEngine('wasm');
  const batchSize = 8;
  const config = { ...trainingDefaults, model: 'dcgan', dataset: 'mnist', seed: 5, batchSize };
  const gan = GanTrainer.create(config, { height: 28, width: 28, channels: 1 }, { width: 8 });
  const rng = new Random(9);
  const pixels = Float32Array.from({ length: batchSize * 28 * 28 }, () => rng.next() * 2 - 1);
  const real = tf.tensor4d(pixels, [batchSize, 28, 28, 1]);
  const measure = () => {
    gc();
    return {
      tensors: tf.memory().numTensors,
      buffers: tf.backend().numDataIds(),
      wasmHeap: tf.backend().wasm.HEAPU8.length,
      rss: process.memoryUsage().rss,
    };
  };
  for (let i = 0; i < 20; i++) gan.trainStep(real);
  const before = measure();
  const tensorCounts = new Set();
  const rss = [];
  for (let i = 1; i <= 100; i++) {
    gan.trainStep(real);
    tensorCounts.add(tf.memory().numTensors);
    if (i % 10 === 0) rss.push(measure().rss);
  }
  console.log(JSON.stringify({ before, after: measure(), tensorCounts: [...tensorCounts], rss }));
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

interface Usage {
  tensors: number;
  buffers: number;
  wasmHeap: number;
  rss: number;
}

it('trains a small DCGAN for 100 steps on wasm without growing tensors, heap or RSS', () => {
  const output = execFileSync('npx', ['tsx', '--expose-gc', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const { before, after, tensorCounts, rss } = JSON.parse(
    output.trim().split('\n').pop() as string,
  ) as { before: Usage; after: Usage; tensorCounts: number[]; rss: number[] };

  expect(tensorCounts).toEqual([before.tensors]);
  expect(after.tensors).toBe(before.tensors);
  expect(after.buffers).toBe(before.buffers);
  // WebAssembly memory never shrinks, so any growth after warm-up would be kept for good.
  expect(after.wasmHeap).toBe(before.wasmHeap);
  // RSS after gc, every 10 steps. Without a leak the medians of the first and last 50 steps
  // measured -6.6 to +0.5 MB apart (the allocator takes and returns pages in jumps of up to
  // ~14 MB); a 200 KB per step leak measured +5.8 MB. So this catches leaks of a few hundred KB
  // per step and up; tensor leaks, however small, are caught exactly above.
  const growth = median(rss.slice(5)) - median(rss.slice(0, 5));
  expect(growth / 2 ** 20).toBeLessThan(8);
});
