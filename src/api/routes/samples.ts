import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GanforgeError } from '../../errors.js';
import { findRun } from '../find-run.js';
import { binaryResponse, errorResponses, RunIdParams, StepParams } from '../schemas/common.js';
import { SampleListSchema, sampleView } from '../schemas/samples.js';
import { openArtifact } from './artifact-download.js';

export const sampleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/runs/:id/samples',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'Sample grids of a run',
        params: RunIdParams,
        response: { 200: SampleListSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const run = await findRun(app.prisma, request.params.id);
      const samples = await app.prisma.sample.findMany({
        where: { runId: run.id },
        orderBy: { step: 'asc' },
      });
      return { items: samples.map(sampleView) };
    },
  );

  app.get(
    '/runs/:id/samples/:step.png',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'Download a sample grid',
        params: StepParams,
        response: {
          200: binaryResponse('image/png', 'PNG grid of G(fixed noise) at this step.'),
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { id, step } = request.params;
      const run = await findRun(app.prisma, id);
      const sample = await app.prisma.sample.findUnique({
        where: { runId_step: { runId: run.id, step } },
      });
      if (!sample) {
        throw new GanforgeError(
          'GANFORGE_ERR_NOT_FOUND',
          `run ${id} has no sample at step ${step}`,
        );
      }
      const file = await openArtifact(app.artifacts, sample.path, request.log);
      return (
        reply
          .type('image/png')
          .header('content-length', file.bytes)
          // A grid is never rewritten: a resumed run writes the same step's grid from the same noise.
          .header('cache-control', 'public, max-age=86400')
          .send(file.stream)
      );
    },
  );
};
