import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import type { PrismaClient } from '../../db/client.js';
import { ArtifactStore } from '../../storage/artifacts.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    prisma: PrismaClient;
    redis: Redis;
    artifacts: ArtifactStore;
  }
}

export interface InfrastructureOptions {
  config: Config;
  prisma: PrismaClient;
  redis: Redis;
}

/**
 * The clients the API shares with the rest of the process. They are handed in, not opened here:
 * whoever opened them (the CLI, a test) closes them, after the app has closed.
 */
export const infrastructurePlugin = fp<InfrastructureOptions>(
  async (app, { config, prisma, redis }) => {
    app.decorate('config', config);
    app.decorate('prisma', prisma);
    app.decorate('redis', redis);
    app.decorate('artifacts', new ArtifactStore(config.artifactsDir));
  },
  { name: 'ganforge-infrastructure' },
);
