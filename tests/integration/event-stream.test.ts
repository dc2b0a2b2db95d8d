import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunEventHub } from '../../src/queue/event-hub.js';
import { compareSeq, RunEventStream } from '../../src/queue/event-stream.js';
import type { RunEvent } from '../../src/queue/run-events.js';
import { waitFor } from '../helpers/wait.js';

const prefix = `gf-test-events-${randomUUID()}`;
let redis: Redis;
let stream: RunEventStream;

beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  stream = new RunEventStream(redis, { prefix, maxLen: 100 });
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

function scalars(runId: string, step: number) {
  return { kind: 'scalars' as const, runId, step, values: { 'loss/generator': step / 10 } };
}

/** Collects a subscription's events into an array. */
function collect(hub: RunEventHub, runId: string, after?: string) {
  const events: RunEvent[] = [];
  const subscription = hub.subscribe(runId, after, { onEvent: (e) => events.push(e) });
  return { events, subscription };
}

describe('RunEventStream', () => {
  it('assigns increasing seqs and reads after a seq, exclusive', async () => {
    const runId = randomUUID();
    const published = [];
    for (let step = 1; step <= 5; step++)
      published.push(await stream.publish(scalars(runId, step)));
    for (let i = 1; i < published.length; i++) {
      expect(compareSeq(published[i - 1].seq, published[i].seq)).toBe(-1);
    }

    expect((await stream.read(runId)).map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);
    const after = await stream.read(runId, published[1].seq);
    expect(after.map((e) => e.step)).toEqual([3, 4, 5]);
    expect(after[0]).toEqual(published[2]);
    expect(await stream.read(runId, published[1].seq, 2)).toHaveLength(2);
    expect(await stream.lastSeq(runId)).toBe(published[4].seq);
    expect(await stream.lastSeq(randomUUID())).toBe('0-0');
  });

  it('caps the stream near maxLen and lets a finished run expire', async () => {
    const runId = randomUUID();
    for (let step = 0; step < 400; step++) await stream.publish(scalars(runId, step));
    const length = await redis.xlen(stream.key(runId));
    // MAXLEN ~ trims whole macro nodes (100 entries by default), so up to one node extra stays.
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThanOrEqual(200);
    expect(await redis.ttl(stream.key(runId))).toBe(-1);

    await stream.publish({ kind: 'status', runId, step: 400, status: 'completed' });
    expect(await redis.ttl(stream.key(runId))).toBeGreaterThan(6 * 24 * 3600);
  });

  it('orders seqs numerically, not as text', () => {
    expect(compareSeq('9-0', '10-0')).toBe(-1);
    expect(compareSeq('10-2', '10-10')).toBe(-1);
    expect(compareSeq('10-10', '10-10')).toBe(0);
  });
});

describe('RunEventHub', () => {
  it('replays history, then delivers live events in order without duplicates', async () => {
    const hub = new RunEventHub(redis, stream, { blockMs: 1000 });
    const runId = randomUUID();
    for (let step = 1; step <= 3; step++) await stream.publish(scalars(runId, step));

    const { events, subscription } = collect(hub, runId);
    // Publish while the replay may still be running: the hub must stitch both without gaps.
    const publishing = (async () => {
      for (let step = 4; step <= 40; step++) await stream.publish(scalars(runId, step));
    })();
    await subscription.ready;
    await publishing;
    await waitFor('40 events', async () => (events.length >= 40 ? true : undefined), 5000);

    expect(events.map((e) => e.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    subscription.close();
    await hub.stop();
  });

  it('resumes after the last seen seq with only the missed events', async () => {
    const hub = new RunEventHub(redis, stream, { blockMs: 1000 });
    const runId = randomUUID();
    const first = collect(hub, runId);
    await first.subscription.ready;
    for (let step = 1; step <= 3; step++) await stream.publish(scalars(runId, step));
    await waitFor('3 events', async () => (first.events.length === 3 ? true : undefined), 5000);
    const lastSeen = first.events[2].seq;
    first.subscription.close();

    for (let step = 4; step <= 6; step++) await stream.publish(scalars(runId, step));
    const second = collect(hub, runId, lastSeen);
    await second.subscription.ready;
    await stream.publish(scalars(runId, 7));
    await waitFor('4 events', async () => (second.events.length >= 4 ? true : undefined), 5000);

    expect(second.events.map((e) => e.step)).toEqual([4, 5, 6, 7]);
    await hub.stop();
  });

  it('follows several runs at once and picks up a new run without waiting for blockMs', async () => {
    // A long block: a new subscription must interrupt it, or this test would take 30 s.
    const hub = new RunEventHub(redis, stream, { blockMs: 30_000 });
    const runA = randomUUID();
    const runB = randomUUID();
    const a = collect(hub, runA);
    await a.subscription.ready;
    await stream.publish(scalars(runA, 1));
    await waitFor('run A event', async () => (a.events.length === 1 ? true : undefined), 5000);

    const b = collect(hub, runB);
    await b.subscription.ready;
    const started = Date.now();
    await stream.publish(scalars(runB, 7));
    await waitFor('run B event', async () => (b.events.length === 1 ? true : undefined), 5000);

    expect(Date.now() - started).toBeLessThan(2000);
    expect(a.events.map((e) => e.runId)).toEqual([runA]);
    expect(b.events.map((e) => [e.runId, e.step])).toEqual([[runB, 7]]);
    await hub.stop();
  });

  it('holds a bounded number of live events for a replaying subscriber and still misses none', async () => {
    const hub = new RunEventHub(redis, stream, { blockMs: 1000, pageSize: 10, maxPending: 5 });
    const runId = randomUUID();
    const watcher = collect(hub, runId);
    await watcher.subscription.ready;
    for (let step = 1; step <= 60; step++) await stream.publish(scalars(runId, step));

    // A slow subscriber: its drained() takes time, so live events arrive during its replay.
    const events: RunEvent[] = [];
    const publishing = (async () => {
      for (let step = 61; step <= 100; step++) await stream.publish(scalars(runId, step));
    })();
    const subscription = hub.subscribe(runId, undefined, {
      onEvent: (e) => events.push(e),
      drained: () => new Promise((resolve) => setTimeout(resolve, 5)),
    });
    await subscription.ready;
    await publishing;
    await waitFor('100 events', async () => (events.length >= 100 ? true : undefined), 5000);

    expect(events.map((e) => e.step)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    await hub.stop();
  });

  it('stops at once despite a long block, and delivers nothing after', async () => {
    const hub = new RunEventHub(redis, stream, { blockMs: 30_000 });
    const runId = randomUUID();
    const { events, subscription } = collect(hub, runId);
    await subscription.ready;

    const started = Date.now();
    await hub.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    await stream.publish(scalars(runId, 1));
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(events).toEqual([]);
    expect(() => hub.subscribe(runId, undefined, { onEvent: () => undefined })).toThrow();
  });
});
