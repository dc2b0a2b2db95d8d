import type { Redis } from 'ioredis';

/**
 * Cancellation of a running run: the API sets a flag in Redis, the worker checks it between
 * training steps and stops at the next step boundary. A flag (not a BullMQ job removal) because
 * a job that a worker holds is locked; the worker must end it itself.
 */

/** A forgotten flag expires after a day; no run waits that long between two steps. */
const cancellationTtlSeconds = 24 * 3600;

function cancellationKey(prefix: string, runId: string): string {
  return `${prefix}:run:${runId}:cancel`;
}

export async function requestCancellation(
  redis: Redis,
  prefix: string,
  runId: string,
): Promise<void> {
  await redis.set(cancellationKey(prefix, runId), '1', 'EX', cancellationTtlSeconds);
}

export async function isCancellationRequested(
  redis: Redis,
  prefix: string,
  runId: string,
): Promise<boolean> {
  return (await redis.exists(cancellationKey(prefix, runId))) === 1;
}

/** The worker clears the flag once the run has stopped, so it cannot touch a later attempt. */
export async function clearCancellation(
  redis: Redis,
  prefix: string,
  runId: string,
): Promise<void> {
  await redis.del(cancellationKey(prefix, runId));
}
