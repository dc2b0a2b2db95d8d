/**
 * Writes openapi.yaml from the route schemas (`npm run openapi`), or with --check fails when the
 * committed file differs from what the routes say (`npm run openapi:check`, run in CI).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../src/api/app.js';

const documentPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../openapi.yaml');

const generated = await buildOpenApiDocument();
if (process.argv.includes('--check')) {
  const committed = await readFile(documentPath, 'utf8').catch(() => '');
  if (committed !== generated) {
    console.error('openapi.yaml is out of date with the route schemas; run `npm run openapi`');
    process.exit(1);
  }
  console.log('openapi.yaml matches the route schemas');
} else {
  await writeFile(documentPath, generated);
  console.log(`wrote ${path.relative(process.cwd(), documentPath)}`);
}
