/**
 * The whole server in one test process: the API listening on a free port and one training worker
 * on the wasm backend, over this file's own Postgres schema, Redis prefix and artifact directory.
 * Runs are submitted over HTTP and followed over the run's WebSocket, as a client would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import WebSocket from 'ws';
import { buildApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { RunEventStream } from '../../src/queue/event-stream.js';
import type { RunEvent } from '../../src/queue/run-events.js';
import { startTrainingWorker } from '../../src/worker/worker.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface ApiStack {
  db: TestDatabase;
  app: FastifyInstance;
  /** host:port the API listens on. */
  baseUrl: string;
  close(): Promise<void>;
}

/** Starts the stack; `name` tells this file's Redis keys and artifact directory apart. */
export async function startApiStack(name: string): Promise<ApiStack> {
  const db = await createTestDatabase();
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const artifactsDir = await mkdtemp(path.join(tmpdir(), `ganforge-${name}-`));
  const prefix = `test-${name}-${process.pid}`;
  const config = {
    ...loadConfig({}),
    databaseUrl: db.url,
    artifactsDir,
    prefix,
    host: '127.0.0.1',
    port: 0,
    backend: 'wasm' as const,
    logLevel: 'silent',
  };
  const app = await buildApp({ config, prisma: db.prisma, redis, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  const worker = await startTrainingWorker({
    config,
    prisma: db.prisma,
    redis,
    events: new RunEventStream(redis, { prefix, maxLen: 1000 }),
    logger: pino({ level: 'silent' }),
  });
  return {
    db,
    app,
    baseUrl: `127.0.0.1:${address.port}`,
    async close() {
      await worker.close();
      await app.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await db.drop();
      await rm(artifactsDir, { recursive: true, force: true });
    },
  };
}

/** Collects a run's events from its WebSocket until `until` says stop. */
export function streamEvents(
  baseUrl: string,
  runId: string,
  until: (event: RunEvent) => boolean,
  after?: string,
): Promise<RunEvent[]> {
  const query = after ? `?after=${after}` : '';
  const socket = new WebSocket(`ws://${baseUrl}/v1/runs/${runId}/stream${query}`);
  const seen: RunEvent[] = [];
  return new Promise((resolve, reject) => {
    socket.on('message', (data) => {
      const event = JSON.parse(String(data)) as RunEvent;
      seen.push(event);
      if (until(event)) {
        socket.close();
        resolve(seen);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(seen));
  });
}

export const isTerminal = (e: RunEvent) =>
  e.kind === 'status' && ['completed', 'failed', 'cancelled', 'diverged'].includes(e.status);
