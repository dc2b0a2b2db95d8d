import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { computeScore } from '../../src/worker/evaluation-score.js';
import { scoreOffThread } from '../../src/worker/score-off-thread.js';
import { normalFeatures } from '../helpers/random-features.js';

/** The longest gap between ticks of a 5 ms timer while `work` runs. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  try {
    const result = await work();
    // The tick that ends a stall comes after the work; let it in.
    await sleep(20);
    return { result, stallMs };
  } finally {
    clearInterval(timer);
  }
}

describe('scoreOffThread', () => {
  it('gives the score computed in process, without holding up the event loop', async () => {
    // A Parzen window of 400 x 400 rows of 784 values: ~1 s of synchronous loops in process.
    const input = {
      metric: 'parzen' as const,
      generated: normalFeatures(400, 784, 1, 0.3, 0.5),
      validation: normalFeatures(400, 784, 2, 0.3, 0.5),
      test: normalFeatures(400, 784, 3, 0.3, 0.5),
    };

    const inProcess = await longestStall(async () => computeScore(input));
    const offThread = await longestStall(() => scoreOffThread(input));

    expect(offThread.result).toEqual(inProcess.result);
    expect(inProcess.stallMs).toBeGreaterThan(300);
    expect(offThread.stallMs).toBeLessThan(inProcess.stallMs / 3);
  });

  it('rethrows a coded metric error with its code', async () => {
    const features = normalFeatures(20, 4, 4);
    const input = {
      metric: 'is' as const,
      generated: { features, probabilities: null },
      real: null,
      extractorName: 'pool3-only',
    };

    await expect(scoreOffThread(input)).rejects.toMatchObject({
      code: 'GANFORGE_ERR_METRIC_UNSUPPORTED',
      details: { metric: 'is', extractor: 'pool3-only' },
    });
  });
});
