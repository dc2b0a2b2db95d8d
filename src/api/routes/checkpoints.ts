import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GanforgeError } from '../../errors.js';
import { findRun } from '../find-run.js';
import { binaryResponse, errorResponses, RunIdParams, StepParams } from '../schemas/common.js';
import { CheckpointListSchema, checkpointView } from '../schemas/checkpoints.js';
import { openArtifact } from './artifact-download.js';

export const checkpointRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/runs/:id/checkpoints',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'Checkpoints of a run',
        params: RunIdParams,
        response: { 200: CheckpointListSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const run = await findRun(app.prisma, request.params.id);
      const checkpoints = await app.prisma.checkpoint.findMany({
        where: { runId: run.id },
        orderBy: { step: 'asc' },
      });
      return { items: checkpoints.map(checkpointView) };
    },
  );

  app.get(
    '/runs/:id/checkpoints/:step/file',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'Download a checkpoint',
        description: 'The ETag is the SHA-256 listed for the checkpoint.',
        params: StepParams,
        response: {
          200: binaryResponse('application/octet-stream', 'Weights, optimizer and RNG state.'),
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { id, step } = request.params;
      const run = await findRun(app.prisma, id);
      const checkpoint = await app.prisma.checkpoint.findUnique({
        where: { runId_step: { runId: run.id, step } },
      });
      if (!checkpoint) {
        throw new GanforgeError(
          'GANFORGE_ERR_NOT_FOUND',
          `run ${id} has no checkpoint at step ${step}`,
        );
      }
      const file = await openArtifact(app.artifacts, checkpoint.path, request.log);
      return reply
        .type('application/octet-stream')
        .header('content-length', file.bytes)
        .header('etag', `"${checkpoint.sha256}"`)
        .header('content-disposition', `attachment; filename="${run.id}-step-${step}.ckpt"`)
        .send(file.stream);
    },
  );
};
