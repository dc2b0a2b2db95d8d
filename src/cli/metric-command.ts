/**
 * `ganforge metric <name>`: one metric between two feature files, printed, for people who only
 * want the numbers. No database, queue or server is involved.
 */
import { GanforgeError, isGanforgeError } from '../errors.js';
import type { FeatureMatrix } from '../metrics/feature-matrix.js';
import { readFeatureFile } from '../metrics/feature-files.js';
import { frechetDistance } from '../metrics/frechet-distance.js';
import { inceptionScore } from '../metrics/inception-score.js';
import { kernelInceptionDistance } from '../metrics/kernel-inception-distance.js';
import { parzenLogLikelihood, parzenWindowEvaluation } from '../metrics/parzen-window.js';
import { precisionRecall } from '../metrics/precision-recall.js';

export const metricNames = ['fid', 'kid', 'is', 'parzen', 'precision-recall'] as const;
export type MetricName = (typeof metricNames)[number];

export const metricHelp = `
Files are .npy (2-D float32 or float64) or .json (an array of rows), one row per image.
  fid, kid           --a and --b: two feature sets (e.g. Inception pool features)
  precision-recall   --a: real features, --b: generated features (k-NN manifolds, --k)
  parzen             --a: generated samples, --b: test points, and --sigma or --valid
                     (validation points to choose sigma on); all on one value scale, e.g. [0, 1]
  is                 --a: class probabilities p(y|x), rows summing to 1
Image folders need a feature extractor, which ganforge does not ship yet: extract features first.
`;

export interface MetricOptions {
  a: string;
  b?: string;
  splits: number;
  subsets: number;
  subsetSize?: number;
  seed: number;
  sigma?: number;
  valid?: string;
  k: number;
  threads?: number;
  json: boolean;
}

interface MetricOutput {
  /** What --json prints. */
  result: object;
  /** What is printed otherwise. */
  text: string;
}

/** Computes and prints the metric; returns the process exit code (2 for bad input). */
export async function runMetric(name: MetricName, options: MetricOptions): Promise<number> {
  try {
    const { result, text } = await computeMetric(name, options);
    console.log(options.json ? JSON.stringify(result) : text);
    return 0;
  } catch (err) {
    if (!isGanforgeError(err)) throw err;
    console.error(`${err.code}: ${err.message}`);
    return 2;
  }
}

async function computeMetric(name: MetricName, options: MetricOptions): Promise<MetricOutput> {
  const a = await readFeatureFile(options.a);
  if (name === 'is') {
    const result = inceptionScore(a, { splits: options.splits });
    return { result, text: `IS ${result.mean} (std ${result.std} over ${options.splits} splits)` };
  }
  const b = await required(options.b, '--b');
  switch (name) {
    case 'fid': {
      const { fid, warnings } = await frechetDistance(a, b, { threads: options.threads });
      warnings.forEach((w) => console.error(`warning: ${w}`));
      return { result: { fid }, text: `FID ${fid}` };
    }
    case 'kid': {
      const { mean, std } = await kernelInceptionDistance(a, b, {
        threads: options.threads,
        subsets: options.subsets,
        subsetSize: options.subsetSize,
        seed: options.seed,
      });
      return { result: { kid: mean, std }, text: `KID ${mean} (std ${std} over subsets)` };
    }
    case 'precision-recall': {
      const result = precisionRecall(a, b, { k: options.k });
      return { result, text: `precision ${result.precision}\nrecall ${result.recall}` };
    }
    case 'parzen': {
      const result =
        options.sigma !== undefined
          ? parzenLogLikelihood(a, b, options.sigma)
          : parzenWindowEvaluation(a, await required(options.valid, '--valid or --sigma'), b);
      const { mean, standardError, sigma } = result;
      return {
        result,
        text: `log-likelihood ${mean} (standard error ${standardError}, sigma ${sigma})`,
      };
    }
  }
}

async function required(path: string | undefined, flag: string): Promise<FeatureMatrix> {
  if (path === undefined) {
    throw new GanforgeError('GANFORGE_ERR_METRIC_INPUT', `this metric needs ${flag}`);
  }
  return readFeatureFile(path);
}
