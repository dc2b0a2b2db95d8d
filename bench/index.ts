/** `npm run bench`: every benchmark, one after another (options are passed to each). */
import { benchFid } from './fid.js';
import { benchGemm } from './gemm.js';
import { benchModelSteps } from './model-steps.js';
import { benchScheduledEvaluation } from './scheduled-evaluation.js';
import { benchStyleModels } from './style-models.js';
import { benchTrainStep } from './train-step.js';

const benches: [string, (argv: string[]) => Promise<void>][] = [
  ['train-step', benchTrainStep],
  ['gemm', benchGemm],
  ['fid', benchFid],
  ['model-steps', benchModelSteps],
  ['style-models', benchStyleModels],
  ['scheduled-evaluation', benchScheduledEvaluation],
];

for (const [name, run] of benches) {
  console.log(`\n## bench: ${name}\n`);
  await run(process.argv.slice(2));
}
