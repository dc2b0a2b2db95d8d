/** `npm run bench`: every benchmark, one after another (options are passed to each). */
import { benchFid } from './fid.js';
import { benchTrainStep } from './train-step.js';

const benches: [string, (argv: string[]) => Promise<void>][] = [
  ['train-step', benchTrainStep],
  ['fid', benchFid],
];

for (const [name, run] of benches) {
  console.log(`\n## bench: ${name}\n`);
  await run(process.argv.slice(2));
}
