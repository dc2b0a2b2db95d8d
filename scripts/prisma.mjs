#!/usr/bin/env node
// Runs the Prisma CLI with scripts/schema-engine.mjs as its schema engine, so `generate` and
// `migrate deploy` never download a native engine and work the same offline and online.
// An engine chosen by the caller (PRISMA_SCHEMA_ENGINE_BINARY) wins.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const prismaCli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build/index.js');

const result = spawnSync(process.execPath, [prismaCli, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: {
    PRISMA_SCHEMA_ENGINE_BINARY: path.join(root, 'scripts/schema-engine.mjs'),
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
    ...process.env,
  },
});
process.exit(result.status ?? 1);
