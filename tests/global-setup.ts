import pg from 'pg';
import { describeProblems, findUnreachableServices } from '../src/preflight.js';
import { testServerUrl } from './helpers/database.js';

/**
 * Fails the whole run at once, with the command to fix it, when a service is down; then creates
 * the test database once, so test files migrating their own schemas in parallel never race to it.
 */
export default async function setup(): Promise<void> {
  const problems = await findUnreachableServices(
    testServerUrl,
    process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  );
  if (problems.length > 0) {
    throw new Error(`the tests need PostgreSQL and Redis:\n${describeProblems(problems)}`);
  }

  const target = new URL(testServerUrl);
  const databaseName = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  const client = new pg.Client({ connectionString: target.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      databaseName,
    ]);
    if (found.rowCount === 0)
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(databaseName)}`);
  } finally {
    await client.end();
  }
}
