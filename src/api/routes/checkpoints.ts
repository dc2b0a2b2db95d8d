import { Readable } from 'node:stream';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import * as tf from '@tensorflow/tfjs';
import { GanforgeError } from '../../errors.js';
import { initEngine } from '../../gan/engine.js';
import { renderImageGrid } from '../../gan/image-grid.js';
import { Random } from '../../gan/random.js';
import { restoreStoredCheckpoint } from '../../storage/checkpoint-restore.js';
import { findRun } from '../find-run.js';
import { binaryResponse, errorResponses, RunIdParams, StepParams } from '../schemas/common.js';
import { CheckpointListSchema, checkpointView } from '../schemas/checkpoints.js';
import { openArtifact } from './artifact-download.js';

const SampleQuery = Type.Object(
  {
    count: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 64,
      description: 'Images in the grid, a square number.',
    }),
    seed: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 2 ** 31 - 1,
        description: "Seed of the latent noise. Default: the run's seed.",
      }),
    ),
    psi: Type.Number({
      minimum: 0,
      maximum: 2,
      default: 1,
      description: 'Truncation psi of stylegan and stylegan2 (1: none, 0: the average w).',
    }),
    generator: Type.Enum(['ema', 'raw'], {
      default: 'ema',
      description: "The generator's moving average (when the run keeps one) or the trained one.",
    }),
  },
  { additionalProperties: false },
);

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

  app.get(
    '/runs/:id/checkpoints/:step/samples.png',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'Sample a checkpoint again',
        description:
          "A grid of new images from the checkpoint's generator, drawn by the API process: " +
          '`count` images from noise seeded by `seed`, the same picture for the same query.',
        params: StepParams,
        querystring: SampleQuery,
        response: {
          200: binaryResponse('image/png', 'The sample grid.'),
          ...errorResponses(400, 404, 500),
        },
      },
    },
    async (request, reply) => {
      const { id, step } = request.params;
      const { count, psi, generator } = request.query;
      if (!Number.isInteger(Math.sqrt(count))) {
        throw new GanforgeError('GANFORGE_ERR_VALIDATION', 'count must be a square number', {
          field: 'count',
        });
      }
      const run = await findRun(app.prisma, id);
      if (psi !== 1 && run.model !== 'stylegan' && run.model !== 'stylegan2') {
        throw new GanforgeError(
          'GANFORGE_ERR_VALIDATION',
          `psi applies to stylegan and stylegan2, not to ${run.model}`,
          { field: 'psi' },
        );
      }
      const checkpoint = await app.prisma.checkpoint.findUnique({
        where: { runId_step: { runId: run.id, step } },
      });
      if (!checkpoint) {
        throw new GanforgeError(
          'GANFORGE_ERR_CHECKPOINT_NOT_FOUND',
          `run ${id} has no checkpoint at step ${step}`,
          { step },
        );
      }
      await initEngine(app.config.backend);
      const trainer = await restoreStoredCheckpoint(app.artifacts, checkpoint);
      try {
        const seed = request.query.seed ?? run.seed;
        const latentDim = trainer.config.latentDim;
        const noise = new Random(seed).normals(count * latentDim);
        const images = tf.tidy(() =>
          trainer.generate(tf.tensor2d(noise, [count, latentDim]), seed, {
            raw: generator === 'raw',
            psi,
          }),
        );
        const grid = renderImageGrid(images);
        images.dispose();
        return reply
          .type('image/png')
          .header('content-length', grid.png.length)
          .send(Readable.from(grid.png));
      } finally {
        trainer.dispose();
      }
    },
  );
};
