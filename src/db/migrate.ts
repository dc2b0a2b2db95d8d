/**
 * Applies the committed migrations (prisma/migrations) with `prisma migrate deploy`, creating the
 * database if it does not exist. It runs the Prisma CLI through scripts/prisma.mjs, whose schema
 * engine needs no download, so the same call works offline.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const prismaScript = path.join(projectRoot, 'scripts/prisma.mjs');
  try {
    await promisify(execFile)(process.execPath, [prismaScript, 'migrate', 'deploy'], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl },
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`prisma migrate deploy failed:\n${stdout}${stderr}`, { cause: error });
  }
}
