import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';

/**
 * The dashboard: the static page in src/dashboard at `/`, and the browser build of its chart
 * library (uPlot) at /vendor/uplot/, straight from node_modules, so the page needs no network
 * beyond this server.
 */
const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The page is plain files that tsc does not copy, so a build run from dist/ finds them in the
 * source tree next to it: src/api/plugins -> src/dashboard, dist/api/plugins -> src/dashboard.
 */
function dashboardRoot(): string {
  const candidates = [
    path.resolve(here, '../../dashboard'),
    path.resolve(here, '../../../src/dashboard'),
  ];
  const found = candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
  if (!found) throw new Error(`dashboard files not found in ${candidates.join(' or ')}`);
  return found;
}

const uplotDist = path.dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.esm.js'));

export const dashboardPlugin = fp(
  async (app) => {
    // `wildcard: false` routes only the files that exist, so no catch-all route shadows the API's
    // own 404 answers; `decorateReply: false` leaves reply.sendFile to any other static mount.
    await app.register(fastifyStatic, {
      root: dashboardRoot(),
      prefix: '/',
      wildcard: false,
      decorateReply: false,
    });
    await app.register(fastifyStatic, {
      root: uplotDist,
      prefix: '/vendor/uplot/',
      wildcard: false,
      decorateReply: false,
      allowedPath: (pathName) => ['/uPlot.esm.js', '/uPlot.min.css'].includes(pathName),
    });
  },
  { name: 'ganforge-dashboard' },
);
