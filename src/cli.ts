#!/usr/bin/env node
/**
 * ganforge's command line: `api` and `worker` are the two production processes; `dev` runs both
 * on one machine; `demo` is the quick start; `migrate` applies the database migrations; `metric`
 * computes one metric between sets of images or feature files; `extractor train` trains a metric classifier.
 */
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { runApi } from './cli/api-command.js';
import { spawnCommands } from './cli/child-processes.js';
import { runDemo } from './cli/demo.js';
import { runExtractorTraining } from './cli/extractor-command.js';
import { metricHelp, metricNames, runMetric } from './cli/metric-command.js';
import { extractorKinds } from './cli/metric-inputs.js';
import { runWorker } from './cli/worker-command.js';
import { loadConfig } from './config.js';
import { migrateDatabase } from './db/migrate.js';
import { modelNames } from './gan/training-config.js';

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0) || !Number.isFinite(parsed)) {
    throw new InvalidArgumentError('expected a positive number');
  }
  return parsed;
}

function nonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new InvalidArgumentError('expected an integer >= 0');
  }
  return parsed;
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError('expected a positive integer');
  }
  return parsed;
}

const program = new Command()
  .name('ganforge')
  .description('Train generative adversarial networks and serve their samples.');

program
  .command('api')
  .description('serve the REST and WebSocket API')
  .action(() => runApi(loadConfig()));

program
  .command('worker')
  .description('train queued runs on this machine')
  .action(() => runWorker(loadConfig()));

program
  .command('dev')
  .description('run the API and one worker as two processes on this machine')
  .action(async () => {
    const config = loadConfig();
    await migrateDatabase(config.databaseUrl);
    const group = await spawnCommands(['api', 'worker']);
    const stop = () => void group.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const { code } = await group.firstExit;
    await group.stop();
    process.exitCode = code ?? 0;
  });

program
  .command('demo')
  .description('start API and worker, train a short run on MNIST (DCGAN by default), show it')
  .addOption(new Option('--model <name>', 'the model').choices(modelNames).default('dcgan'))
  .option('--steps <n>', 'training steps', positiveInteger, 1500)
  .option(
    '--width <n>',
    'network width (default: 32 for dcgan, the model default for the others)',
    positiveInteger,
  )
  .option('--batch-size <n>', 'images per step', positiveInteger, 64)
  .option(
    '--stable-steps <n>',
    'progan: steps at each resolution once faded in (default 100)',
    positiveInteger,
  )
  .option(
    '--fade-steps <n>',
    'progan: steps each new resolution fades in (default 100)',
    positiveInteger,
  )
  .option('--seed <n>', 'seed of the run', positiveInteger, 1)
  .option(
    '--evaluate-every <n>',
    'score FID and IS (1,000 images) every n steps and at the last step; checkpoint every n',
    positiveInteger,
  )
  .option('--keep-running', 'keep the API and the worker up after the run', false)
  .action(async (options) => {
    process.exitCode = await runDemo(loadConfig(), options);
  });

program
  .command('migrate')
  .description('apply the database migrations (creates the database when missing)')
  .action(() => migrateDatabase(loadConfig().databaseUrl));

program
  .command('metric')
  .description('compute one metric between sets of images or feature files (no server needed)')
  .addArgument(new Argument('<name>', 'the metric').choices(metricNames))
  .requiredOption('--a <path>', 'first set: images, features, generated samples or probabilities')
  .option('--b <path>', 'second set: images, features or test points')
  .option('--splits <n>', 'is: splits of the rows', positiveInteger, 1)
  .option('--subsets <n>', 'kid: random subsets', positiveInteger, 100)
  .option('--subset-size <n>', 'kid: rows per subset (default min(1000, rows))', positiveInteger)
  .option('--seed <n>', 'kid: seed of the subset draws', nonNegativeInteger, 0)
  .option('--sigma <s>', 'parzen: kernel width', positiveNumber)
  .option('--valid <path>', 'parzen: validation points or images to choose sigma on')
  .option('--k <n>', 'precision-recall: neighbours', positiveInteger, 3)
  .option('--threads <n>', 'threads for the large products (default: all cores)', positiveInteger)
  .addOption(
    new Option('--extractor <kind>', 'images: feature extractor (default classifier)').choices(
      extractorKinds,
    ),
  )
  .option('--dataset <name>', "images: the classifier's dataset, mnist or fashion-mnist")
  .option('--json', 'print the whole result as JSON', false)
  .addHelpText('after', metricHelp)
  .action(async (name, options) => {
    process.exitCode = await runMetric(name, options, loadConfig());
  });

program
  .command('extractor')
  .description("the metrics' feature extractors")
  .command('train')
  .description(
    "train a dataset's classifier for IS and FID and store it (GANFORGE_EXTRACTOR_CACHE_DIR)",
  )
  .requiredOption('--dataset <name>', 'mnist or fashion-mnist')
  .action(async (options: { dataset: string }) => {
    process.exitCode = await runExtractorTraining(loadConfig(), options);
  });

await program.parseAsync();
