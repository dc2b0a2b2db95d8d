import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { WebSocket } from 'ws';
import { compareSeq } from '../../queue/event-stream.js';
import { isTerminalStatus, type RunEvent } from '../../queue/run-events.js';
import { findRun } from '../find-run.js';
import { errorResponses, RunIdParams } from '../schemas/common.js';
import { StreamHeaders, StreamQuery } from '../schemas/stream.js';

/** WebSocket close codes this route uses. */
export const streamCloseCodes = {
  /** The run's terminal status event has been sent; nothing more will come. */
  runFinished: 1000,
  /** Reading the stream failed on the server. */
  internalError: 1011,
  /** The client read too slowly; reconnect with the last seq seen to get the rest. */
  tooSlow: 1013,
} as const;

/**
 * Unsent bytes a client may hold before it is dropped. Dropping loses nothing: the client
 * reconnects with its last seq and the replay resends what it missed, at its own pace.
 */
const maxBufferedBytes = 1024 * 1024;

/** During a replay the next page waits until the client's backlog falls under this. */
const replayLowWaterBytes = 64 * 1024;

/** A replay that cannot hand a page over in this long treats the client as too slow. */
const replayDrainTimeoutMs = 30_000;

/**
 * Pings every 30 s. Proxies close sockets that look idle while a run trains quietly, and a client
 * that vanished without a close answers no ping: it is terminated, which ends its subscription.
 */
const heartbeatMs = 30_000;

function startHeartbeat(socket: WebSocket): () => void {
  let answered = true;
  socket.on('pong', () => (answered = true));
  const timer = setInterval(() => {
    if (!answered) {
      socket.terminate();
      return;
    }
    answered = false;
    socket.ping();
  }, heartbeatMs);
  return () => clearInterval(timer);
}

function waitForDrain(socket: WebSocket): Promise<void> {
  const deadline = Date.now() + replayDrainTimeoutMs;
  return new Promise((resolve) => {
    const poll = () => {
      if (socket.readyState !== socket.OPEN || socket.bufferedAmount <= replayLowWaterBytes) {
        resolve();
      } else if (Date.now() > deadline) {
        socket.close(streamCloseCodes.tooSlow, 'client too slow; reconnect with after=<last seq>');
        resolve();
      } else {
        setTimeout(poll, 20);
      }
    };
    poll();
  });
}

export const runStreamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/runs/:id/stream',
    {
      websocket: true,
      // @fastify/websocket hides its routes from the document; this one is part of the contract.
      config: {
        swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, hide: false }, url }),
      },
      schema: {
        tags: ['runs'],
        summary: 'Follow a run live (WebSocket)',
        description:
          'Upgrade to a WebSocket. The server sends each RunEvent (components/schemas/RunEvent) ' +
          'of the run as one JSON text ' +
          'message, in seq order, once: first the events after `after` (or the Last-Event-ID ' +
          'header; all kept events when neither is given), then live ones. After the terminal ' +
          'status event (completed, failed, cancelled, diverged) it closes with 1000. Kinds: ' +
          'status, scalars, sample, checkpoint, log and evaluation (a finished evaluation with ' +
          'its protocol; one of the last checkpoint can follow the terminal status, so read ' +
          'GET /v1/runs/{id}/evaluations for the record). A client ' +
          'that falls more than 1 MiB behind is closed with 1013 and should reconnect with the ' +
          'last seq it saw. Messages from the client are ignored.',
        params: RunIdParams,
        querystring: StreamQuery,
        headers: StreamHeaders,
        response: {
          101: Type.Null({ description: 'Switching to the WebSocket protocol.' }),
          ...errorResponses(400, 404),
        },
      },
      // Before the upgrade, so an unknown run is a plain 404 answer, not an opened socket.
      preValidation: async (request) => {
        await findRun(app.prisma, request.params.id);
      },
    },
    async (socket, request) => {
      const runId = request.params.id;
      const after = request.query.after ?? request.headers['last-event-id'];
      const log = request.log.child({ runId });
      let finished = false;
      let lastSent = after ?? '0-0';

      const onEvent = (event: RunEvent) => {
        if (finished || socket.readyState !== socket.OPEN) return;
        if (socket.bufferedAmount > maxBufferedBytes) {
          log.info({ buffered: socket.bufferedAmount }, 'dropping a slow stream client');
          subscription.close();
          socket.close(
            streamCloseCodes.tooSlow,
            'client too slow; reconnect with after=<last seq>',
          );
          return;
        }
        socket.send(JSON.stringify(event));
        lastSent = event.seq;
        if (event.kind === 'status' && isTerminalStatus(event.status)) {
          finished = true;
          subscription.close();
          socket.close(streamCloseCodes.runFinished, 'run finished');
        }
      };
      const subscription = app.runEventHub.subscribe(runId, after, {
        onEvent,
        drained: () => waitForDrain(socket),
      });
      const stopHeartbeat = startHeartbeat(socket);
      socket.on('close', () => {
        stopHeartbeat();
        subscription.close();
      });
      socket.on('message', () => undefined);

      try {
        await subscription.ready;
      } catch (err) {
        log.error({ err }, 'replaying run events failed');
        socket.close(streamCloseCodes.internalError, 'internal error');
        return;
      }
      await closeIfNothingMore(runId, socket, lastSent).catch((err: unknown) =>
        log.warn({ err }, 'checking whether the run has finished failed'),
      );
    },
  );

  /**
   * A client that reconnects to a finished run after it already saw the terminal event (or
   * after the run's log expired) would otherwise wait on a silent socket: close it at once.
   */
  async function closeIfNothingMore(runId: string, socket: WebSocket, seen: string) {
    if (socket.readyState !== socket.OPEN) return;
    const run = await findRun(app.prisma, runId);
    if (!isTerminalStatus(run.status)) return;
    const last = await app.runEvents.last(runId);
    const lastIsTerminal = last?.kind === 'status' && isTerminalStatus(last.status);
    if (!last || (lastIsTerminal && compareSeq(last.seq, seen) <= 0)) {
      socket.close(streamCloseCodes.runFinished, 'run finished');
    }
  }
};
