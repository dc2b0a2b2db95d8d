import fp from 'fastify-plugin';
import { RunEventHub } from '../../queue/event-hub.js';
import { RunEventStream } from '../../queue/event-stream.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Publishes run events (the API itself writes `queued` and `cancelled`). */
    runEvents: RunEventStream;
    /** Follows run event streams for WebSocket clients. */
    runEventHub: RunEventHub;
  }
}

/**
 * Run event streams. The hub opens its own blocking connection on the first subscription and
 * closes it when the app closes, after the WebSocket server has closed its clients.
 */
export const runEventsPlugin = fp(
  async (app) => {
    const stream = new RunEventStream(app.redis, {
      prefix: app.config.prefix,
      maxLen: app.config.eventsMaxLen,
    });
    const hub = new RunEventHub(app.redis, stream, { logger: app.log });
    app.decorate('runEvents', stream);
    app.decorate('runEventHub', hub);
    app.addHook('onClose', async () => {
      await hub.stop();
    });
  },
  { name: 'ganforge-run-events', dependencies: ['ganforge-infrastructure'] },
);
