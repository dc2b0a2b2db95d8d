import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Prisma } from '../../db/client.js';
import { GanforgeError } from '../../errors.js';
import { requestCancellation } from '../../queue/cancellation.js';
import { isTerminalStatus } from '../../queue/run-events.js';
import { enqueueTrainingRun, removeWaitingTrainingRun } from '../../queue/training-queue.js';
import { findRun } from '../find-run.js';
import { resolveTrainingConfig } from '../run-config.js';
import { errorResponses, RunIdParams } from '../schemas/common.js';
import {
  CreateRunBody,
  ListRunsQuery,
  RunListSchema,
  RunSchema,
  runView,
} from '../schemas/runs.js';

/** Opaque page cursor: the (createdAt, id) of the last run on the page, newest-first order. */
function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [iso, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    const createdAt = new Date(String(iso));
    if (typeof id === 'string' && !Number.isNaN(createdAt.getTime())) return { createdAt, id };
  } catch {
    // Falls through to the coded error below: a cursor is opaque, any damage is the same error.
  }
  throw new GanforgeError('GANFORGE_ERR_VALIDATION', 'cursor is not one this API returned', {
    issues: [{ path: '/cursor', message: 'malformed cursor' }],
  });
}

export const runRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Submit a training run',
        description:
          'Validates the config, fills in defaults, stores the run as queued and queues it. ' +
          'The response holds the full resolved config.',
        body: CreateRunBody,
        response: { 201: RunSchema, ...errorResponses(400, 503) },
      },
    },
    async (request, reply) => {
      const dataset = await app.prisma.dataset.findUnique({ where: { id: request.body.dataset } });
      const config = resolveTrainingConfig(request.body, dataset);
      const run = await app.prisma.run.create({
        data: {
          model: config.model,
          datasetId: config.dataset,
          config: config as unknown as Prisma.InputJsonObject,
          seed: config.seed,
          status: 'queued',
          totalSteps: config.steps,
        },
      });
      try {
        // Published before the job exists, so `queued` always precedes the worker's `running`.
        await app.runEvents.publish({ kind: 'status', runId: run.id, step: 0, status: 'queued' });
        await enqueueTrainingRun(app.trainingQueue, run.id);
      } catch (err) {
        await app.prisma.run.delete({ where: { id: run.id } });
        request.log.error({ err, runId: run.id }, 'queueing the run failed');
        throw new GanforgeError('GANFORGE_ERR_UNAVAILABLE', 'the job queue is not reachable');
      }
      request.log.info(
        { runId: run.id, model: config.model, dataset: config.dataset },
        'run queued',
      );
      return reply.code(201).send(runView(run));
    },
  );

  app.get(
    '/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'List runs, newest first',
        querystring: ListRunsQuery,
        response: { 200: RunListSchema, ...errorResponses(400) },
      },
    },
    async (request) => {
      const { status, model, dataset, limit, cursor } = request.query;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const runs = await app.prisma.run.findMany({
        where: {
          status,
          model,
          datasetId: dataset,
          ...(after && {
            OR: [
              { createdAt: { lt: after.createdAt } },
              { createdAt: after.createdAt, id: { lt: after.id } },
            ],
          }),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit + 1,
      });
      const page = runs.slice(0, limit);
      const last = page.at(-1);
      const nextCursor = runs.length > limit && last ? encodeCursor(last.createdAt, last.id) : null;
      return { items: page.map(runView), nextCursor };
    },
  );

  app.get(
    '/runs/:id',
    {
      schema: {
        tags: ['runs'],
        summary: 'One run',
        params: RunIdParams,
        response: { 200: RunSchema, ...errorResponses(404) },
      },
    },
    async (request) => runView(await findRun(app.prisma, request.params.id)),
  );

  app.post(
    '/runs/:id/cancel',
    {
      schema: {
        tags: ['runs'],
        summary: 'Cancel a run',
        description:
          'A queued run is removed from the queue and answered 200 with status cancelled. A ' +
          'running or paused run is asked to stop and answered 202; its worker stops at the ' +
          'next step and publishes the cancelled status. A finished run is 409.',
        params: RunIdParams,
        response: {
          200: RunSchema,
          202: RunSchema,
          ...errorResponses(404, 409),
        },
      },
    },
    async (request, reply) => {
      const run = await findRun(app.prisma, request.params.id);
      if (isTerminalStatus(run.status)) {
        throw new GanforgeError('GANFORGE_ERR_RUN_FINISHED', `run ${run.id} is ${run.status}`, {
          status: run.status,
        });
      }
      if (run.status === 'queued' && (await removeWaitingTrainingRun(app.trainingQueue, run.id))) {
        const changed = await app.prisma.run.updateMany({
          where: { id: run.id, status: 'queued' },
          data: { status: 'cancelled', finishedAt: new Date() },
        });
        if (changed.count === 1) {
          await app.runEvents.publish({
            kind: 'status',
            runId: run.id,
            step: run.step,
            status: 'cancelled',
          });
          request.log.info({ runId: run.id }, 'queued run cancelled');
          return reply.code(200).send(runView(await findRun(app.prisma, run.id)));
        }
      }
      // A worker holds the run (or took it a moment ago): it must stop the run itself.
      await requestCancellation(app.redis, app.config.prefix, run.id);
      request.log.info({ runId: run.id }, 'cancellation requested');
      return reply.code(202).send(runView(await findRun(app.prisma, run.id)));
    },
  );
};
