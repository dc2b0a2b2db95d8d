import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { findRun } from '../find-run.js';
import { errorResponses, RunIdParams } from '../schemas/common.js';
import { ScalarsQuery, ScalarsResponseSchema } from '../schemas/scalars.js';

interface Series {
  name: string;
  steps: number[];
  values: number[];
}

export const scalarRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/runs/:id/scalars',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'Logged scalars of a run, one series per name',
        description:
          'Losses, gradient norms, learning rates and throughput, grouped into series. A page ' +
          'always ends at a whole step; when more remain, nextSince is the step to ask from.',
        params: RunIdParams,
        querystring: ScalarsQuery,
        response: { 200: ScalarsResponseSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const run = await findRun(app.prisma, request.params.id);
      const { name, since, limit } = request.query;
      const rows = await app.prisma.scalar.findMany({
        where: { runId: run.id, step: { gte: since }, ...(name && { name: { in: name } }) },
        orderBy: [{ step: 'asc' }, { name: 'asc' }],
        select: { step: true, name: true, value: true },
        take: limit + 1,
      });

      let nextSince: number | null = null;
      let page = rows;
      if (rows.length > limit) {
        // Cut before the step the extra row belongs to, so no step is split across two pages.
        const cutStep = rows[limit].step;
        const whole = rows.filter((row) => row.step < cutStep);
        page = whole.length > 0 ? whole : rows.slice(0, limit);
        nextSince = whole.length > 0 ? cutStep : cutStep + 1;
      }

      const byName = new Map<string, Series>();
      for (const row of page) {
        let series = byName.get(row.name);
        if (!series) byName.set(row.name, (series = { name: row.name, steps: [], values: [] }));
        series.steps.push(row.step);
        series.values.push(row.value);
      }
      const series = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
      return { series, nextSince };
    },
  );
};
