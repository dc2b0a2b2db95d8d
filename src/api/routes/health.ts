import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GanforgeError } from '../../errors.js';
import { errorResponses } from '../schemas/common.js';
import { HealthSchema } from '../schemas/health.js';

/** A dependency that does not answer within this is reported down (clients may retry forever). */
const checkTimeoutMs = 2000;

async function answers(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), checkTimeoutMs);
  });
  const probe = check().then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Whether the API can reach its database and Redis',
        response: { 200: HealthSchema, ...errorResponses(503) },
      },
    },
    async () => {
      const [database, redis] = await Promise.all([
        answers(() => app.prisma.$queryRaw`SELECT 1`),
        answers(() => app.redis.ping()),
      ]);
      if (!database || !redis) {
        throw new GanforgeError('GANFORGE_ERR_UNAVAILABLE', 'a dependency is not reachable', {
          database: database ? 'ok' : 'down',
          redis: redis ? 'ok' : 'down',
        });
      }
      return { status: 'ok' as const, checks: { database: 'ok' as const, redis: 'ok' as const } };
    },
  );
};
