/**
 * A fresh, migrated Postgres schema per test file, so files running in parallel never see each
 * other's rows. The schema lives in the `ganforge_test` database and is dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPrismaClient, type PrismaClient } from '../../src/db/client.js';
import { syncBuiltInDatasets } from '../../src/db/datasets.js';
import { migrateDatabase } from '../../src/db/migrate.js';

export const testServerUrl =
  process.env.GANFORGE_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ganforge_test';

export interface TestDatabase {
  /** Connection string with `?schema=` naming this file's schema. */
  url: string;
  schema: string;
  prisma: PrismaClient;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const url = `${testServerUrl}?schema=${schema}`;
  await migrateDatabase(url);

  const prisma = createPrismaClient(url);
  await syncBuiltInDatasets(prisma);
  return {
    url,
    schema,
    prisma,
    async drop() {
      await prisma.$disconnect();
      const client = new pg.Client({ connectionString: testServerUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
