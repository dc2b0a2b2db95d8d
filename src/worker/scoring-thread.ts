/**
 * Entry of the thread a score is computed on (see score-off-thread.ts): one ScoreInput in, one
 * Score or error out. A GanforgeError crosses as its code, message and details.
 */
import { parentPort } from 'node:worker_threads';
import { isGanforgeError } from '../errors.js';
import { computeScore, type ScoreInput } from './evaluation-score.js';

parentPort?.once('message', (input: ScoreInput) => {
  Promise.resolve()
    .then(() => computeScore(input))
    .then(
      (score) => parentPort?.postMessage({ score }),
      (err: unknown) =>
        parentPort?.postMessage({
          error: isGanforgeError(err)
            ? { code: err.code, message: err.message, details: err.details }
            : { message: err instanceof Error ? err.message : String(err) },
        }),
    );
});
