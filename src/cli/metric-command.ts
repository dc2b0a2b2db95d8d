/**
 * `ganforge metric <name>`: one metric between two sets of images or feature files, printed, for
 * people who only want the numbers. No database, queue or server is involved.
 */
import type { Config } from '../config.js';
import { GanforgeError, isGanforgeError } from '../errors.js';
import type { FeatureMatrix } from '../metrics/feature-matrix.js';
import { frechetDistance } from '../metrics/frechet-distance.js';
import { inceptionScore } from '../metrics/inception-score.js';
import { kernelInceptionDistance } from '../metrics/kernel-inception-distance.js';
import { parzenLogLikelihood, parzenWindowEvaluation } from '../metrics/parzen-window.js';
import { precisionRecall } from '../metrics/precision-recall.js';
import {
  readSampleSets,
  type ExtractorKind,
  type ImageProtocol,
  type SetFlag,
} from './metric-inputs.js';

export const metricNames = ['fid', 'kid', 'is', 'parzen', 'precision-recall'] as const;
export type MetricName = (typeof metricNames)[number];

export const metricHelp = `
Sets are feature files or images. Feature files are .npy (2-D float32 or float64) or .json (an
array of rows), one row per image. Images are a directory of PNG files of one size, or a .npy of
uint8 [N, H, W] or [N, H, W, C] with values 0-255, or float32/float64 ones with values in [0, 1].
  fid, kid           --a and --b: two feature or image sets
  precision-recall   --a: real, --b: generated features or images (k-NN manifolds, --k)
  parzen             --a: generated samples, --b: test points, and --sigma or --valid
                     (validation points to choose sigma on); one value scale, e.g. [0, 1];
                     images are taken as their pixels in [0, 1], with no extractor
  is                 --a: class probabilities p(y|x), rows summing to 1, or images
Images go through a feature extractor: --extractor classifier --dataset mnist|fashion-mnist
(the default kind; trained on first use, GANFORGE_EXTRACTOR_CACHE_DIR) or --extractor inception
(GANFORGE_INCEPTION_MODEL_DIR; no probabilities, so no IS). The extractor's name, sha256 and
resize are printed with the score.
Example: ganforge metric fid --a generated/ --b real/ --dataset mnist
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
  /** Image sets only: classifier (the default) or inception. */
  extractor?: ExtractorKind;
  /** Image sets only: the classifier's dataset. */
  dataset?: string;
}

interface MetricOutput {
  /** What --json prints. */
  result: object;
  /** What is printed otherwise. */
  text: string;
}

/**
 * Computes and prints the metric; returns the process exit code (2 for bad input). Image sets use
 * config's backend and extractor directories.
 */
export async function runMetric(
  name: MetricName,
  options: MetricOptions,
  config: Config,
): Promise<number> {
  try {
    const paths: Partial<Record<SetFlag, string>> = { a: options.a };
    if (name !== 'is') paths.b = required(options.b, '--b');
    if (name === 'parzen' && options.sigma === undefined) {
      paths.valid = required(options.valid, '--valid or --sigma');
    }
    const { rows, protocol } = await readSampleSets(name, paths, options, config);
    const { result, text } = await computeMetric(name, rows, options);
    assertFiniteResult(result);
    if (protocol === undefined) {
      console.log(options.json ? JSON.stringify(result) : text);
    } else {
      const json = JSON.stringify({ ...result, protocol });
      console.log(options.json ? json : `${text}\n${protocolLine(protocol)}`);
    }
    return 0;
  } catch (err) {
    if (!isGanforgeError(err)) throw err;
    console.error(`${err.code}: ${err.message}`);
    return 2;
  }
}

/** A score that overflowed (inputs near the double range) is an input error, not a number. */
function assertFiniteResult(result: object): void {
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new GanforgeError(
        'GANFORGE_ERR_METRIC_INPUT',
        `${key} came out ${value}: the inputs' magnitudes overflow double precision; rescale them`,
        { [key]: String(value) },
      );
    }
  }
}

async function computeMetric(
  name: MetricName,
  rows: Partial<Record<SetFlag, FeatureMatrix>>,
  options: MetricOptions,
): Promise<MetricOutput> {
  // runMetric has read every set this metric needs.
  const [a, b, valid] = [rows.a, rows.b, rows.valid] as FeatureMatrix[];
  if (name === 'is') {
    const result = inceptionScore(a, { splits: options.splits });
    return { result, text: `IS ${result.mean} (std ${result.std} over ${options.splits} splits)` };
  }
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
          : parzenWindowEvaluation(a, valid, b);
      const { mean, standardError, sigma } = result;
      return {
        result,
        text: `log-likelihood ${mean} (standard error ${standardError}, sigma ${sigma})`,
      };
    }
  }
}

function required(path: string | undefined, flag: string): string {
  if (path === undefined) {
    throw new GanforgeError('GANFORGE_ERR_METRIC_INPUT', `this metric needs ${flag}`);
  }
  return path;
}

/** E.g. `extractor classifier-mnist (sha256 4a77864c6b79), resize center-crop-28; ...`. */
function protocolLine(protocol: ImageProtocol): string {
  const counts = Object.entries(protocol.images)
    .map(([flag, count]) => `--${flag} ${count}`)
    .join(', ');
  const extractor =
    protocol.extractorName === null
      ? 'no extractor (pixels in [0, 1])'
      : `extractor ${protocol.extractorName} (sha256 ${protocol.extractorSha256?.slice(0, 12)})`;
  return `${extractor}, resize ${protocol.resize}; images ${counts}`;
}
