/**
 * The Prisma client ganforge uses at run time. Queries go through @prisma/adapter-pg (node-postgres),
 * so no native query engine is involved. A `?schema=` parameter in the URL selects the Postgres
 * schema, as it does for the Prisma CLI; tests use it to give each file its own schema.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.js';

export { PrismaClient };
export type { Prisma } from './generated/client.js';

export function createPrismaClient(databaseUrl: string): PrismaClient {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? undefined;
  // node-postgres does not know `schema`; it only confuses its own URL parsing.
  url.searchParams.delete('schema');
  const adapter = new PrismaPg({ connectionString: url.toString() }, { schema });
  return new PrismaClient({ adapter });
}
