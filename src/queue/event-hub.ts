import type { Redis } from 'ioredis';
import { compareSeq, parseStreamEntry, type RunEventStream } from './event-stream.js';
import type { RunEvent } from './run-events.js';

/** Receives one run's events, each once and in seq order. */
export interface RunEventListener {
  onEvent(event: RunEvent): void;
  /**
   * Resolves when the listener can take more. The hub awaits it between replay pages, so a
   * long history reaches a slow client at the client's pace instead of piling up in memory.
   */
  drained?(): Promise<void>;
}

export interface RunEventSubscription {
  /** Settles once the missed events have been replayed and live delivery has begun. */
  readonly ready: Promise<void>;
  close(): void;
}

export interface RunEventHubOptions {
  /** Longest a blocking read waits before it re-reads its list of runs (ms). */
  blockMs?: number;
  /** Events read per replay page and per blocking read. */
  pageSize?: number;
  /**
   * Live events held for a subscriber while its replay is still running. Past this the hold is
   * dropped and the replay simply reads further, so a long replay never buffers without bound.
   */
  maxPending?: number;
  logger?: { warn(obj: object, msg: string): void };
}

interface Subscriber {
  listener: RunEventListener;
  /** Seq of the last event handed to the listener; nothing at or before it is sent again. */
  lastSeq: string;
  replaying: boolean;
  pending: RunEvent[];
  overflowed: boolean;
  closed: boolean;
}

interface TrackedRun {
  key: string;
  /**
   * Where the blocking read continues in this run's stream; unset until the stream's end as of
   * the first subscription is known, and the loop leaves the run out until then.
   */
  cursor?: string;
  started: Promise<void>;
  subscribers: Set<Subscriber>;
}

const defaults = { blockMs: 5000, pageSize: 200, maxPending: 1000 };

/**
 * One api process's reader of run event streams. A single blocking XREAD, on a connection of
 * its own (a blocked connection can do nothing else), follows every run that has subscribers
 * and fans each event out to them; replays of missed events go over the shared connection.
 */
export class RunEventHub {
  private readonly options: Required<Omit<RunEventHubOptions, 'logger'>>;
  private readonly runs = new Map<string, TrackedRun>();
  private reader?: Redis;
  private readerId?: number;
  private loop?: Promise<void>;
  /** Bumped whenever the set of followed runs grows; the loop re-reads its key list on change. */
  private generation = 0;
  private blockedGeneration?: number;
  private wakeIdle?: () => void;
  private stopped = false;

  constructor(
    private readonly redis: Redis,
    private readonly stream: RunEventStream,
    private readonly hubOptions: RunEventHubOptions = {},
  ) {
    this.options = {
      blockMs: hubOptions.blockMs ?? defaults.blockMs,
      pageSize: hubOptions.pageSize ?? defaults.pageSize,
      maxPending: hubOptions.maxPending ?? defaults.maxPending,
    };
  }

  /** Follows a run: first every event after `afterSeq` (all kept events without it), then live. */
  subscribe(
    runId: string,
    afterSeq: string | undefined,
    listener: RunEventListener,
  ): RunEventSubscription {
    if (this.stopped) throw new Error('the run event hub is stopped');
    const subscriber: Subscriber = {
      listener,
      lastSeq: afterSeq ?? '0-0',
      replaying: true,
      pending: [],
      overflowed: false,
      closed: false,
    };
    const run = this.track(runId);
    run.subscribers.add(subscriber);
    const close = () => {
      subscriber.closed = true;
      run.subscribers.delete(subscriber);
      if (run.subscribers.size === 0 && this.runs.get(runId) === run) this.runs.delete(runId);
    };
    const ready = run.started.then(() => this.replay(runId, subscriber));
    ready.catch(close);
    return { ready, close };
  }

  /** Stops the blocking read and closes its connection. Subscribers get no further events. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const run of this.runs.values()) {
      for (const subscriber of run.subscribers) subscriber.closed = true;
    }
    this.runs.clear();
    this.wakeIdle?.();
    this.reader?.disconnect();
    await this.loop;
  }

  private track(runId: string): TrackedRun {
    const existing = this.runs.get(runId);
    if (existing) return existing;
    const run: TrackedRun = {
      key: this.stream.key(runId),
      started: Promise.resolve(),
      subscribers: new Set(),
    };
    // The cursor must be set before any replay ends: events up to it are the replay's, events
    // after it the loop's, so together they miss nothing.
    run.started = this.stream.lastSeq(runId).then((seq) => {
      run.cursor = seq;
      this.generation += 1;
      this.ensureLoop();
      void this.interruptBlockedRead();
    });
    this.runs.set(runId, run);
    return run;
  }

  private async replay(runId: string, subscriber: Subscriber): Promise<void> {
    const { pageSize } = this.options;
    while (!subscriber.closed) {
      const page = await this.stream.read(runId, subscriber.lastSeq, pageSize);
      for (const event of page) this.deliver(subscriber, event);
      if (page.length === pageSize) {
        await subscriber.listener.drained?.();
        continue;
      }
      if (subscriber.overflowed) {
        // Live events were dropped while we replayed: read on from the stream instead.
        subscriber.overflowed = false;
        subscriber.pending = [];
        continue;
      }
      const held = subscriber.pending;
      subscriber.pending = [];
      subscriber.replaying = false;
      for (const event of held) this.deliver(subscriber, event);
      return;
    }
  }

  private deliver(subscriber: Subscriber, event: RunEvent): void {
    if (subscriber.closed || compareSeq(event.seq, subscriber.lastSeq) <= 0) return;
    subscriber.lastSeq = event.seq;
    subscriber.listener.onEvent(event);
  }

  private fanOut(run: TrackedRun, event: RunEvent): void {
    for (const subscriber of run.subscribers) {
      if (!subscriber.replaying) {
        this.deliver(subscriber, event);
      } else if (subscriber.pending.length < this.options.maxPending) {
        subscriber.pending.push(event);
      } else {
        subscriber.overflowed = true;
        subscriber.pending = [];
      }
    }
  }

  private ensureLoop(): void {
    if (this.loop || this.stopped) return;
    this.reader = this.redis.duplicate();
    // After a reconnect the connection has a new client id.
    this.reader.on('close', () => (this.readerId = undefined));
    this.reader.on('error', (err) => this.hubOptions.logger?.warn({ err }, 'event reader error'));
    this.loop = this.readLoop();
  }

  private async readLoop(): Promise<void> {
    while (!this.stopped) {
      const generation = this.generation;
      const runs = [...this.runs.entries()].filter(([, run]) => run.cursor !== undefined);
      if (runs.length === 0) {
        await new Promise<void>((resolve) => (this.wakeIdle = resolve));
        this.wakeIdle = undefined;
        continue;
      }
      try {
        this.blockedGeneration = generation;
        await this.readOnce(runs);
      } catch (err) {
        if (this.stopped) return;
        this.blockedGeneration = undefined;
        this.hubOptions.logger?.warn({ err }, 'reading run events failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private async readOnce(runs: [string, TrackedRun][]): Promise<void> {
    const reader = this.reader as Redis;
    this.readerId ??= Number(await reader.client('ID'));
    const keys = runs.map(([, run]) => run.key);
    const cursors = runs.map(([, run]) => run.cursor as string);
    const reply = await reader
      .xread(
        'COUNT',
        this.options.pageSize,
        'BLOCK',
        this.options.blockMs,
        'STREAMS',
        ...keys,
        ...cursors,
      )
      .finally(() => (this.blockedGeneration = undefined));
    for (const [key, entries] of reply ?? []) {
      const entry = runs.find(([, run]) => run.key === key);
      if (!entry) continue;
      const [runId, run] = entry;
      for (const [id, fields] of entries) {
        run.cursor = id;
        if (this.runs.get(runId) === run) this.fanOut(run, parseStreamEntry(id, fields));
      }
    }
  }

  /**
   * Ends the current blocking read early (CLIENT UNBLOCK from the shared connection) so a newly
   * followed run joins the key list now, not after blockMs. The UNBLOCK can overtake the XREAD it
   * targets (different connections), hence the few retries; missing them only costs latency.
   */
  private async interruptBlockedRead(): Promise<void> {
    const wanted = this.generation;
    this.wakeIdle?.();
    for (let attempt = 0; attempt < 5 && !this.stopped; attempt++) {
      if (this.blockedGeneration === undefined || this.blockedGeneration >= wanted) return;
      if (this.readerId !== undefined) {
        const unblocked = await this.redis.client('UNBLOCK', this.readerId).catch(() => 0);
        if (unblocked === 1) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
