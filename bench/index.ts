/** `npm run bench`: every benchmark, one after another (options are passed to each). */
import { benchStyleModels } from './style-models.js';
import { benchTrainStep } from './train-step.js';

const benches: [string, (argv: string[]) => Promise<void>][] = [
  ['train-step', benchTrainStep],
  ['style-models', benchStyleModels],
];

for (const [name, run] of benches) {
  console.log(`\n## bench: ${name}\n`);
  await run(process.argv.slice(2));
}
