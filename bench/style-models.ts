/**
 * `npx tsx bench/style-models.ts`: median time of one training step (a D update and a G update,
 * forward and backward, Adam) of Progressive GAN at 32x32, StyleGAN and StyleGAN2, and of one lazy
 * R1 update of D, on the engine ganforge picks. Ends with the kernels that take the most time in
 * one step of each model.
 *
 * Options: --batch N (default 32), --width N (default: each model's), --steps N (timed steps,
 * default 5), --warmup N (default 2), --no-profile.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initEngine } from '../src/gan/engine.js';
import type { Network } from '../src/gan/models/network.js';
import { discriminatorLoss, generatorLoss } from '../src/gan/losses.js';
import {
  buildProgressiveDiscriminator,
  buildProgressiveGenerator,
  progressiveGanDefaultWidth,
} from '../src/gan/models/progressive-gan.js';
import {
  buildStyleGanDiscriminator,
  buildStyleGanGenerator,
  styleGanDefaultWidth,
} from '../src/gan/models/stylegan.js';
import {
  buildStyleGan2Discriminator,
  buildStyleGan2Generator,
  styleGan2DefaultWidth,
} from '../src/gan/models/stylegan2.js';
import { lazyR1Interval, r1Penalty } from '../src/gan/penalties.js';

const digits = { height: 28, width: 28, channels: 1 };
const latentDim = 100;

interface Options {
  batch: number;
  width?: number;
  steps: number;
  warmup: number;
  profile: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  return {
    batch: value('--batch') ?? 32,
    width: value('--width'),
    steps: value('--steps') ?? 5,
    warmup: value('--warmup') ?? 2,
    profile: !argv.includes('--no-profile'),
  };
}

interface Model {
  name: string;
  width: number;
  generator: Network;
  discriminator: Network;
}

function buildModels(options: Options): Model[] {
  const widthOf = (fallback: number) => options.width ?? fallback;
  const progressive = widthOf(progressiveGanDefaultWidth);
  const style = widthOf(styleGanDefaultWidth);
  const style2 = widthOf(styleGan2DefaultWidth);
  const grown = buildProgressiveGenerator(latentDim, digits, progressive, 1);
  const grownD = buildProgressiveDiscriminator(digits, progressive, 2);
  // The slowest phase: the 32x32 block fading in, so both the old and the new path run.
  grown.setPhase({ resolution: 32, alpha: 0.5 });
  grownD.setPhase({ resolution: 32, alpha: 0.5 });
  return [
    { name: 'Progressive GAN', width: progressive, generator: grown, discriminator: grownD },
    {
      name: 'StyleGAN',
      width: style,
      generator: buildStyleGanGenerator(latentDim, digits, style, 1),
      discriminator: buildStyleGanDiscriminator(digits, style, 2),
    },
    {
      name: 'StyleGAN2',
      width: style2,
      generator: buildStyleGan2Generator(latentDim, digits, style2, 1),
      discriminator: buildStyleGan2Discriminator(digits, style2, 2),
    },
  ];
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

class Stepper {
  private readonly dOptimizer = tf.train.adam(2e-3, 0, 0.99);
  private readonly gOptimizer = tf.train.adam(2e-3, 0, 0.99);

  constructor(
    private readonly model: Model,
    private readonly real: tf.Tensor4D,
    private readonly z: tf.Tensor2D,
  ) {}

  /** One D and one G update; their losses. */
  step(): [number, number] {
    const { generator: g, discriminator: d } = this.model;
    const dCost = this.dOptimizer.minimize(
      () => {
        const fake = g.apply(this.z, { training: true });
        return discriminatorLoss(
          d.apply(this.real, { training: true }),
          d.apply(fake, { training: true }),
        );
      },
      true,
      d.trainableVariables.map((v) => v.variable),
    );
    const gCost = this.gOptimizer.minimize(
      () => generatorLoss(d.apply(g.apply(this.z, { training: true }), { training: true })),
      true,
      g.trainableVariables.map((v) => v.variable),
    );
    const losses: [number, number] = [dCost!.dataSync()[0], gCost!.dataSync()[0]];
    tf.dispose([dCost!, gCost!]);
    return losses;
  }

  r1Step(): void {
    const d = this.model.discriminator;
    const cost = this.dOptimizer.minimize(
      () => r1Penalty(d, this.real, { interval: lazyR1Interval }),
      true,
      d.trainableVariables.map((v) => v.variable),
    );
    cost!.dataSync();
    cost!.dispose();
  }

  dispose(): void {
    this.dOptimizer.dispose();
    this.gOptimizer.dispose();
  }
}

function timed(run: () => void, options: Options): number {
  for (let i = 0; i < options.warmup; i++) run();
  const times: number[] = [];
  for (let i = 0; i < options.steps; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return median(times);
}

async function profileStep(name: string, stepper: Stepper): Promise<void> {
  const info = await tf.profile(() => {
    stepper.step();
  });
  const rows = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const kernel of info.kernels) {
    const ms = await kernel.kernelTimeMs;
    if (typeof ms !== 'number') continue;
    const row = rows.get(kernel.name) ?? { ms: 0, calls: 0 };
    row.ms += ms;
    row.calls += 1;
    rows.set(kernel.name, row);
    total += ms;
  }
  const top = [...rows.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
  console.log(`\n${name}: kernels of one step (${total.toFixed(0)} ms in kernels, top 8)`);
  console.log('| ms | % | calls | kernel |\n|---:|---:|---:|---|');
  for (const [kernel, row] of top) {
    const share = ((100 * row.ms) / total).toFixed(1);
    console.log(`| ${row.ms.toFixed(1)} | ${share} | ${row.calls} | ${kernel} |`);
  }
}

export async function benchStyleModels(argv: string[] = process.argv.slice(2)): Promise<void> {
  const options = parseOptions(argv);
  const engine = await initEngine('auto');
  console.log(`Training steps at 32x32x1, batch ${options.batch}; tfjs ${engine.detail}`);
  const real = tf.randomUniform([options.batch, 32, 32, 1], -1, 1, 'float32', 7) as tf.Tensor4D;
  const z = tf.randomNormal([options.batch, latentDim], 0, 1, 'float32', 8) as tf.Tensor2D;
  const models = buildModels(options);
  const steppers = models.map((m) => new Stepper(m, real, z));

  console.log('\n| model | width | median ms per D+G step | median ms per R1 step of D |');
  console.log('|---|---:|---:|---:|');
  models.forEach((model, i) => {
    const stepper = steppers[i];
    const stepMs = timed(() => {
      const [dLoss, gLoss] = stepper.step();
      if (!Number.isFinite(dLoss) || !Number.isFinite(gLoss)) throw new Error('non-finite loss');
    }, options);
    const r1Ms = timed(() => stepper.r1Step(), options);
    console.log(`| ${model.name} | ${model.width} | ${stepMs.toFixed(0)} | ${r1Ms.toFixed(0)} |`);
  });

  if (options.profile) {
    for (let i = 0; i < models.length; i++) await profileStep(models[i].name, steppers[i]);
  }
  steppers.forEach((s) => s.dispose());
  models.forEach((m) => [m.generator, m.discriminator].forEach((n) => n.dispose()));
  tf.dispose([real, z]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await benchStyleModels();
}
