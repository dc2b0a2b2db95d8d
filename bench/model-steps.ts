/**
 * `npm run bench:models`: median time of one GanTrainer step (nCritic critic updates, each on its
 * own batch, then one generator update and the moving-average update) for each model at its
 * default width, batch 64, on the engine ganforge picks, at the image side a run on MNIST gets by
 * default: 28x28 for gan, dcgan, wgan and wgan-gp, 32x32 for progan, stylegan and stylegan2.
 * progan is timed at its final resolution, after warm-up steps that grow it there (one stable and
 * one fade-in step per resolution): most steps of a run are at that resolution. The pixels are
 * random: the time of a step does not depend on them. stylegan2, whose R1 runs every 16th
 * step, is timed over whole intervals of 16 and reported by its mean step.
 *
 * Options: --model NAME (repeatable; default every model), --steps N (timed steps, default 5),
 * --warmup N (default 1), --threads N (wasm threads, default 1).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/gan/engine.js';
import { defaultImageSide } from '../src/gan/models/index.js';
import { modelNames, trainingDefaults, type ModelName } from '../src/gan/training-config.js';
import { lazyR1Interval } from '../src/gan/penalties.js';
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

/** Phase settings that grow progan to its final resolution within a few warm-up steps. */
const quickGrowth = { stableSteps: 1, fadeSteps: 1 };

function timeModel(
  model: ModelName,
  options: Options,
): { ms: number; nCritic: number; side: number } {
  const config = {
    ...trainingDefaults,
    model,
    dataset: 'mnist' as const,
    seed: 1,
    ...(model === 'progan' ? quickGrowth : {}),
  };
  const side = defaultImageSide(model, 28, 28);
  const trainer = GanTrainer.create(config, { height: side, width: side, channels: 1 });
  const batches = Array.from({ length: trainer.batchesPerStep }, (_, i) =>
    tf.randomUniform([config.batchSize, side, side, 1], -1, 1, 'float32', i + 1),
  ) as tf.Tensor4D[];
  const grown = () =>
    trainer.phase === null || (trainer.phase.resolution === side && trainer.phase.alpha === 1);
  try {
    for (let i = 0; i < options.warmup || !grown(); i++) trainer.trainStep(batches);
    // A lazily regularized model pays its R1 once per interval: it is timed over whole intervals
    // and reported by the mean step, R1 included (a median would leave it out).
    const lazy = model === 'stylegan2';
    const steps = lazy ? Math.ceil(options.steps / lazyR1Interval) * lazyR1Interval : options.steps;
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const start = performance.now();
      const losses = trainer.trainStep(batches);
      times.push(performance.now() - start);
      if (!Number.isFinite(losses.dLoss) || !Number.isFinite(losses.gLoss)) {
        throw new Error(`${model}: non-finite loss at step ${trainer.step}`);
      }
    }
    const ms = lazy ? times.reduce((sum, t) => sum + t, 0) / times.length : median(times);
    return { ms, nCritic: trainer.batchesPerStep, side };
  } finally {
    tf.dispose(batches);
    trainer.dispose();
  }
}

export async function benchModelSteps(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const engine = await initEngine('auto', undefined, { wasmThreads: options.threads });
  console.log(`engine: ${engine.detail}; batch ${trainingDefaults.batchSize}, default widths`);
  console.log('model     image  nCritic   ms/step   steps/s');
  for (const model of options.models) {
    const { ms, nCritic, side } = timeModel(model, options);
    const row = [
      model.padEnd(9),
      `${side}x${side}`.padStart(5),
      String(nCritic).padStart(8),
      ms.toFixed(0).padStart(9),
      (1000 / ms).toFixed(3).padStart(9),
    ];
    console.log(row.join(' '));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await benchModelSteps(process.argv.slice(2));
}
