import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../schemas/common.js';
import { DatasetListSchema } from '../schemas/datasets.js';

export const datasetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Built-in datasets a run can train on',
        response: { 200: DatasetListSchema, ...errorResponses() },
      },
    },
    async () => {
      const datasets = await app.prisma.dataset.findMany({ orderBy: { id: 'asc' } });
      return {
        items: datasets.map(({ createdAt: _createdAt, ...dataset }) => dataset),
      };
    },
  );
};
