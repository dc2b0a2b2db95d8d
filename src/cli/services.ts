/**
 * Start-up shared by the `api` and `worker` commands: check that Postgres and Redis answer, apply
 * the migrations, and open the clients both processes use.
 */
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { Config } from '../config.js';
import { createPrismaClient, type PrismaClient } from '../db/client.js';
import { syncBuiltInDatasets } from '../db/datasets.js';
import { migrateDatabase } from '../db/migrate.js';
import { describeProblems, findUnreachableServices } from '../preflight.js';

export interface Services {
  logger: Logger;
  prisma: PrismaClient;
  redis: Redis;
  close(): Promise<void>;
}

export class ServicesUnreachableError extends Error {}

export async function assertServicesReachable(config: Config): Promise<void> {
  const problems = await findUnreachableServices(config.databaseUrl, config.redisUrl);
  if (problems.length > 0) throw new ServicesUnreachableError(describeProblems(problems));
}

export async function openServices(
  config: Config,
  name: string,
  options: { migrate: boolean },
): Promise<Services> {
  const logger = pino({ name, level: config.logLevel });
  await assertServicesReachable(config);
  if (options.migrate) {
    await migrateDatabase(config.databaseUrl);
    logger.info('database migrations applied');
  }

  const prisma = createPrismaClient(config.databaseUrl);
  if (options.migrate) await syncBuiltInDatasets(prisma);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  return {
    logger,
    prisma,
    redis,
    async close() {
      await prisma.$disconnect();
      redis.disconnect();
    },
  };
}

/** Runs `stop` once on SIGINT or SIGTERM, then exits. */
export function onShutdown(stop: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop()
      .catch((err: unknown) => logger.error({ err }, 'shutdown failed'))
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', handle);
  process.once('SIGTERM', handle);
}
