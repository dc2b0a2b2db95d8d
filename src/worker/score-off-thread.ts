/**
 * Computes a score on a worker thread. The metrics are long synchronous loops (a Parzen window
 * over 1,000 x 1,000 MNIST images takes ~16 s here, k-nearest neighbours over 10,000 x 2,048
 * features far longer); on the worker's event loop they would stop BullMQ from renewing the locks
 * of every job this process holds, training ones included.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GanforgeError, type ErrorCode } from '../errors.js';
import type { Score, ScoreInput } from './evaluation-score.js';

type ThreadAnswer =
  | { score: Score }
  | { error: { code?: ErrorCode; message: string; details?: Record<string, unknown> } };

/** The thread's module next to this one: .ts when run from source, .js when built. */
const threadFile = new URL(
  `./scoring-thread${path.extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

/**
 * Worker threads do not inherit the TypeScript loader of their process: from source, the thread
 * registers tsx itself before it imports the module.
 */
function startThread(): Worker {
  if (!threadFile.pathname.endsWith('.ts')) return new Worker(threadFile);
  const bootstrap = `
    const { workerData } = require('node:worker_threads');
    import('tsx/esm/api').then(({ register }) => { register(); return import(workerData); });
  `;
  return new Worker(bootstrap, { eval: true, workerData: threadFile.href });
}

export async function scoreOffThread(input: ScoreInput): Promise<Score> {
  const thread = startThread();
  try {
    const answer = await new Promise<ThreadAnswer>((resolve, reject) => {
      thread.once('message', resolve);
      thread.once('error', reject);
      thread.once('exit', (code) => reject(new Error(`the scoring thread exited with ${code}`)));
      thread.postMessage(input);
    });
    if ('score' in answer) return answer.score;
    const { code, message, details } = answer.error;
    throw code ? new GanforgeError(code, message, details) : new Error(message);
  } finally {
    await thread.terminate();
  }
}
