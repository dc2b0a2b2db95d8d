/**
 * `npm run bench:models`: median time of one GanTrainer step (nCritic critic updates, each on its
 * own batch, then one generator update and the moving-average update) for each model at its
 * default width, batch 64, 28x28x1, on the engine ganforge picks. The pixels are random: the time
 * of a step does not depend on them.
 *
 * Options: --model NAME (repeatable; default every model), --steps N (timed steps, default 5),
 * --warmup N (default 1), --threads N (wasm threads, default 1).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/gan/engine.js';
import { modelNames, trainingDefaults, type ModelName } from '../src/gan/training-config.js';
import { GanTrainer } from '../src/gan/training.js';

interface Options {
  models: ModelName[];
  steps: number;
  warmup: number;
  threads: number;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string, fallback: number) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const models = argv.flatMap((arg, i) => (argv[i - 1] === '--model' ? [arg] : []));
  for (const model of models) {
    if (!(modelNames as readonly string[]).includes(model)) throw new Error(`no model ${model}`);
  }
  return {
    models: models.length > 0 ? (models as ModelName[]) : [...modelNames],
    steps: value('--steps', 5),
    warmup: value('--warmup', 1),
    threads: value('--threads', 1),
  };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function timeModel(model: ModelName, options: Options): { ms: number; nCritic: number } {
  const config = { ...trainingDefaults, model, dataset: 'mnist' as const, seed: 1 };
  const trainer = GanTrainer.create(config, { height: 28, width: 28, channels: 1 });
  const batches = Array.from({ length: trainer.batchesPerStep }, (_, i) =>
    tf.randomUniform([config.batchSize, 28, 28, 1], -1, 1, 'float32', i + 1),
  ) as tf.Tensor4D[];
  try {
    for (let i = 0; i < options.warmup; i++) trainer.trainStep(batches);
    const times: number[] = [];
    for (let i = 0; i < options.steps; i++) {
      const start = performance.now();
      const losses = trainer.trainStep(batches);
      times.push(performance.now() - start);
      if (!Number.isFinite(losses.dLoss) || !Number.isFinite(losses.gLoss)) {
        throw new Error(`${model}: non-finite loss at step ${trainer.step}`);
      }
    }
    return { ms: median(times), nCritic: trainer.batchesPerStep };
  } finally {
    tf.dispose(batches);
    trainer.dispose();
  }
}

export async function benchModelSteps(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const engine = await initEngine('auto', undefined, { wasmThreads: options.threads });
  console.log(`engine: ${engine.detail}; batch ${trainingDefaults.batchSize}, default widths`);
  console.log('model     nCritic   ms/step   steps/s');
  for (const model of options.models) {
    const { ms, nCritic } = timeModel(model, options);
    const row = [
      model.padEnd(9),
      String(nCritic).padStart(7),
      ms.toFixed(0).padStart(9),
      (1000 / ms).toFixed(3).padStart(9),
    ];
    console.log(row.join(' '));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await benchModelSteps(process.argv.slice(2));
}
