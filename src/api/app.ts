import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { PrismaClient } from '../db/client.js';
import { dashboardPlugin } from './plugins/dashboard.js';
import { docsPlugin } from './plugins/docs.js';
import { errorsPlugin, toErrorResponse } from './plugins/errors.js';
import { infrastructurePlugin } from './plugins/infrastructure.js';
import { queuesPlugin } from './plugins/queues.js';
import { runEventsPlugin } from './plugins/run-events.js';
import { checkpointRoutes } from './routes/checkpoints.js';
import { datasetRoutes } from './routes/datasets.js';
import { evaluationRoutes } from './routes/evaluations.js';
import { healthRoutes } from './routes/health.js';
import { runStreamRoutes } from './routes/run-stream.js';
import { runRoutes } from './routes/runs.js';
import { sampleRoutes } from './routes/samples.js';
import { compileRequestValidator } from './validation.js';
import { scalarRoutes } from './routes/scalars.js';

export interface AppDeps {
  config: Config;
  /** Opened and closed by the caller, so tests choose the database schema. */
  prisma: PrismaClient;
  /** Opened and closed by the caller; the app duplicates it for its blocking reads. */
  redis: Redis;
  /** Fastify logger options, false for none, or a pino logger to log through. */
  logger?: boolean | object;
}

/** Largest WebSocket message accepted from a client; clients have nothing to say but close. */
const maxClientMessageBytes = 4096;

function createServer(logger: AppDeps['logger']) {
  const isLoggerInstance =
    typeof logger === 'object' && typeof (logger as { child?: unknown }).child === 'function';
  const server = Fastify({
    ...(isLoggerInstance
      ? { loggerInstance: logger as FastifyBaseLogger }
      : { logger: logger ?? true }),
    // Errors the router raises before any route runs (a malformed URL, an overlong parameter)
    // get the same coded body as every other error.
    frameworkErrors: (err, request, reply) => {
      const { status, body } = toErrorResponse(err);
      request.log.info({ code: body.error.code, reason: err.code }, 'request refused');
      // The reply is untyped here: this handler serves routes that never matched.
      return (reply as FastifyReply).code(status).send(body);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  server.setValidatorCompiler(compileRequestValidator);
  return server;
}

/** Error handling, the OpenAPI document, WebSockets and the routes; no infrastructure. */
const apiPlugin = fp<Record<never, never>>(
  async (app) => {
    await app.register(errorsPlugin);
    await app.register(docsPlugin);
    await app.register(websocket, { options: { maxPayload: maxClientMessageBytes } });
    await app.register(healthRoutes);
    await app.register(datasetRoutes, { prefix: '/v1' });
    await app.register(runRoutes, { prefix: '/v1' });
    await app.register(runStreamRoutes, { prefix: '/v1' });
    await app.register(scalarRoutes, { prefix: '/v1' });
    await app.register(sampleRoutes, { prefix: '/v1' });
    await app.register(checkpointRoutes, { prefix: '/v1' });
    await app.register(evaluationRoutes, { prefix: '/v1' });
  },
  { name: 'ganforge-api' },
);

/**
 * The API server: the clients it is given, the queue and event hub it opens, the routes and the
 * dashboard page.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = createServer(deps.logger);
  await app.register(infrastructurePlugin, deps);
  await app.register(queuesPlugin);
  await app.register(runEventsPlugin);
  await app.register(apiPlugin);
  await app.register(dashboardPlugin);
  return app;
}

/**
 * The OpenAPI document as YAML. Routes only touch the database, Redis and the queue inside their
 * handlers, so they register without any of them and the document needs no running service.
 */
export async function buildOpenApiDocument(): Promise<string> {
  const app = createServer(false);
  await app.register(apiPlugin);
  await app.ready();
  const document = app.swagger({ yaml: true });
  await app.close();
  return document;
}
