/**
 * `ganforge extractor train --dataset <name>`: trains a dataset's classifier ahead of time and
 * stores it where evaluations look for it (GANFORGE_EXTRACTOR_CACHE_DIR), so the first
 * evaluation does not wait for the training.
 */
import type { Config } from '../config.js';
import { isGanforgeError } from '../errors.js';
import { initEngine } from '../gan/engine.js';
import { classifierDir, trainAndStoreClassifier } from '../metrics/extractors/index.js';

export async function runExtractorTraining(
  config: Config,
  options: { dataset: string },
): Promise<number> {
  const log = (msg: string, fields?: object) =>
    console.error(fields ? `${msg} ${JSON.stringify(fields)}` : msg);
  try {
    const engine = await initEngine(config.backend, log);
    log('compute backend', { backend: engine.backend, detail: engine.detail });
    const context = { cacheDir: config.extractorCacheDir, log };
    const manifest = await trainAndStoreClassifier(options.dataset, context);
    console.log(
      `${manifest.name}: test accuracy ${(manifest.testAccuracy * 100).toFixed(2)}%, ` +
        `trained in ${manifest.trainSeconds} s on ${manifest.backend}\n` +
        `sha256 ${manifest.sha256}\n` +
        `stored in ${classifierDir(config.extractorCacheDir, options.dataset)}`,
    );
    return 0;
  } catch (err) {
    if (!isGanforgeError(err)) throw err;
    console.error(`${err.code}: ${err.message}`);
    return 2;
  }
}
