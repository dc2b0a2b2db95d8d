import type { Redis } from 'ioredis';
import { isTerminalStatus, type RunEvent, type RunEventBody } from './run-events.js';

/**
 * Each run's events live in one capped Redis stream. The stream id is the event's `seq`, so a
 * client that saw seq S asks for everything after S and gets exactly what it missed (while the
 * cap has not dropped it).
 */
export interface RunEventStreamOptions {
  /** Key prefix shared with the queues (config.prefix). */
  prefix: string;
  /** Events kept per run, approximately (XADD MAXLEN ~; config.eventsMaxLen). */
  maxLen: number;
}

/** A finished run's events stay readable for a week, then Redis frees them. */
const finishedStreamTtlSeconds = 7 * 24 * 3600;

const seqPattern = /^\d+-\d+$/;

/** True for a Redis stream id such as `1733264400000-0`. */
export function isSeq(value: string): boolean {
  return seqPattern.test(value);
}

/** Orders two stream ids (`ms-n`) numerically; ids compare by time, then by sequence. */
export function compareSeq(a: string, b: string): number {
  const [aMs, aN] = a.split('-').map(BigInt);
  const [bMs, bN] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aN !== bN) return aN < bN ? -1 : 1;
  return 0;
}

export function runEventsKey(prefix: string, runId: string): string {
  return `${prefix}:run:${runId}:events`;
}

/** Turns one stream entry (`event` field holding the JSON body) back into a RunEvent. */
export function parseStreamEntry(id: string, fields: string[]): RunEvent {
  const at = fields.indexOf('event');
  const body = JSON.parse(fields[at + 1]) as RunEventBody;
  return { ...body, seq: id };
}

export class RunEventStream {
  constructor(
    private readonly redis: Redis,
    private readonly options: RunEventStreamOptions,
  ) {}

  key(runId: string): string {
    return runEventsKey(this.options.prefix, runId);
  }

  async publish(body: RunEventBody): Promise<RunEvent> {
    const key = this.key(body.runId);
    const transaction = this.redis
      .multi()
      .xadd(key, 'MAXLEN', '~', this.options.maxLen, '*', 'event', JSON.stringify(body));
    if (body.kind === 'status') {
      // Only a finished run's log may expire; a run that resumes must keep its history.
      if (isTerminalStatus(body.status)) transaction.expire(key, finishedStreamTtlSeconds);
      else transaction.persist(key);
    }
    const results = await transaction.exec();
    const [err, seq] = results?.[0] ?? [new Error('XADD was not executed'), null];
    if (err) throw err;
    return { ...body, seq: seq as string };
  }

  /** Up to `count` events after `afterSeq` (exclusive), oldest first; from the start without it. */
  async read(runId: string, afterSeq?: string, count = 1000): Promise<RunEvent[]> {
    const start = afterSeq === undefined ? '-' : `(${afterSeq}`;
    const entries = await this.redis.xrange(this.key(runId), start, '+', 'COUNT', count);
    return entries.map(([id, fields]) => parseStreamEntry(id, fields));
  }

  /** The newest event, if the run has any. */
  async last(runId: string): Promise<RunEvent | undefined> {
    const [newest] = await this.redis.xrevrange(this.key(runId), '+', '-', 'COUNT', 1);
    return newest && parseStreamEntry(newest[0], newest[1]);
  }

  /** The newest event's seq, or `0-0` for a run with no events yet. */
  async lastSeq(runId: string): Promise<string> {
    return (await this.last(runId))?.seq ?? '0-0';
  }
}
