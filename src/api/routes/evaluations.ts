import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Prisma } from '../../db/client.js';
import { createQueuedEvaluation } from '../../db/evaluations.js';
import { GanforgeError } from '../../errors.js';
import { lowerIsBetter, type MetricName } from '../../gan/training-config.js';
import { enqueueEvaluation } from '../../queue/evaluation-queue.js';
import {
  availableRealImages,
  defaultEvaluationSamples,
  defaultRealSamples,
  extractorServes,
} from '../evaluation-request.js';
import { findRun } from '../find-run.js';
import { errorResponses, RunIdParams } from '../schemas/common.js';
import {
  CreateEvaluationBody,
  EvaluationListSchema,
  EvaluationSchema,
  evaluationView,
  LeaderboardQuery,
  LeaderboardSchema,
  RunEvaluationsQuery,
  type CreateEvaluationRequest,
} from '../schemas/evaluations.js';

/** Protocol groups a leaderboard answer holds at most. */
const maxLeaderboardGroups = 50;

/** The columns that make a score's protocol (see DESIGN.md, Scores). */
const protocolColumns = [
  'metric',
  'datasetId',
  'extractor',
  'extractorName',
  'extractorSha256',
  'resize',
  'generatedSamples',
  'realSamples',
  'realSplit',
] as const;

/**
 * Parzen windows work on pixels and score the test split; other choices do not apply to them.
 * The Inception Score needs an extractor with class probabilities and reads no real images.
 */
function assertApplies(body: CreateEvaluationRequest): void {
  if (!extractorServes(body.metric, body.extractor ?? 'classifier')) {
    throw new GanforgeError(
      'GANFORGE_ERR_METRIC_UNSUPPORTED',
      `extractor ${body.extractor} has no class probabilities for the Inception Score`,
      { field: 'extractor', metric: body.metric },
    );
  }
  if (body.metric === 'is') {
    for (const field of ['realSamples', 'realSplit'] as const) {
      if (body[field] !== undefined) {
        throw new GanforgeError(
          'GANFORGE_ERR_METRIC_UNSUPPORTED',
          `${field} does not apply to is, which reads no real images`,
          { field, metric: body.metric },
        );
      }
    }
  }
  if (body.metric !== 'parzen') return;
  for (const field of ['extractor', 'realSplit'] as const) {
    if (body[field] !== undefined && !(field === 'realSplit' && body.realSplit === 'test')) {
      throw new GanforgeError(
        'GANFORGE_ERR_METRIC_UNSUPPORTED',
        `${field} does not apply to parzen, which scores test images in pixel space`,
        { field, metric: body.metric },
      );
    }
  }
}

export const evaluationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/runs/:id/evaluations',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Evaluate a checkpoint',
        description:
          'Queues one evaluation of the checkpoint at `step` (default: the latest) with one ' +
          'metric and answers 202 with the queued evaluation. A worker generates `samples` ' +
          "images with the run's sampling generator, scores them against the real images and " +
          'publishes an `evaluation` event on the run stream; GET the run evaluations for the ' +
          'result.',
        params: RunIdParams,
        body: CreateEvaluationBody,
        response: { 202: EvaluationSchema, ...errorResponses(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const run = await findRun(app.prisma, request.params.id);
      assertApplies(body);
      const checkpoint =
        body.step === undefined
          ? await app.prisma.checkpoint.findFirst({
              where: { runId: run.id },
              orderBy: { step: 'desc' },
            })
          : await app.prisma.checkpoint.findUnique({
              where: { runId_step: { runId: run.id, step: body.step } },
            });
      if (!checkpoint) {
        throw new GanforgeError(
          'GANFORGE_ERR_CHECKPOINT_NOT_FOUND',
          body.step === undefined
            ? `run ${run.id} has no checkpoint yet`
            : `run ${run.id} has no checkpoint at step ${body.step}`,
          { step: body.step },
        );
      }

      const dataset = await app.prisma.dataset.findUniqueOrThrow({ where: { id: run.datasetId } });
      const samples = body.samples ?? defaultEvaluationSamples;
      const realSplit = body.realSplit ?? 'test';
      const available = availableRealImages([body.metric], realSplit, dataset);
      const realSamples = body.realSamples ?? defaultRealSamples(samples, available);
      if (realSamples > available) {
        throw new GanforgeError(
          'GANFORGE_ERR_METRIC_INPUT',
          `realSamples (${realSamples}) exceeds the ${available} real images available`,
          { field: 'realSamples', available },
        );
      }

      const evaluation = await createQueuedEvaluation(app.prisma, {
        runId: run.id,
        checkpoint,
        datasetId: run.datasetId,
        metric: body.metric,
        extractor: body.extractor ?? 'classifier',
        generatedSamples: samples,
        realSamples,
        realSplit,
      });
      try {
        await enqueueEvaluation(app.evaluationQueue, evaluation.id);
      } catch (err) {
        request.log.error({ err, evaluationId: evaluation.id }, 'queueing an evaluation failed');
        await app.prisma.evaluation.update({
          where: { id: evaluation.id },
          data: {
            status: 'failed',
            errorCode: 'GANFORGE_ERR_UNAVAILABLE',
            errorMessage: 'the evaluation queue is not reachable',
            finishedAt: new Date(),
          },
        });
        throw new GanforgeError(
          'GANFORGE_ERR_UNAVAILABLE',
          'the evaluation queue is not reachable',
        );
      }
      return reply.code(202).send(evaluationView(evaluation));
    },
  );

  app.get(
    '/runs/:id/evaluations',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Evaluations of a run',
        params: RunIdParams,
        querystring: RunEvaluationsQuery,
        response: { 200: EvaluationListSchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const run = await findRun(app.prisma, request.params.id);
      const evaluations = await app.prisma.evaluation.findMany({
        where: { runId: run.id, metric: request.query.metric },
        orderBy: [{ step: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }],
      });
      return { items: evaluations.map(evaluationView) };
    },
  );

  app.get(
    '/evaluations',
    {
      schema: {
        tags: ['evaluations'],
        summary: 'Leaderboard of completed evaluations, one ranking per protocol',
        description:
          'Filters completed evaluations, groups them by protocol (metric, dataset, extractor ' +
          'kind, name and weights hash, resize, generated and real sample counts, real split) ' +
          'and ranks each group best first: ascending for fid and kid, descending for is, ' +
          'parzen and precision-recall (by precision). Scores of different protocols are never ' +
          'ranked together; pin one protocol with the filters to get a single group. At most ' +
          `${maxLeaderboardGroups} groups, the most populated first.`,
        querystring: LeaderboardQuery,
        response: { 200: LeaderboardSchema, ...errorResponses(400) },
      },
    },
    async (request) => {
      const query = request.query;
      const where: Prisma.EvaluationWhereInput = {
        status: 'completed',
        datasetId: query.dataset,
        metric: query.metric,
        extractorName: query.extractor,
        extractorSha256: query.extractorSha256,
        generatedSamples: query.generatedSamples,
        realSamples: query.realSamples,
        realSplit: query.realSplit,
        ...(query.model ? { run: { model: query.model } } : {}),
      };
      const protocols = await app.prisma.evaluation.groupBy({
        by: [...protocolColumns],
        where,
        _count: { _all: true },
      });
      protocols.sort(
        (a, b) =>
          b._count._all - a._count._all ||
          protocolColumns
            .map((column) => String(a[column]).localeCompare(String(b[column])))
            .find((order) => order !== 0) ||
          0,
      );

      const groups = await Promise.all(
        protocols.slice(0, maxLeaderboardGroups).map(async (protocol) => {
          const metric = protocol.metric as MetricName;
          const order = lowerIsBetter(metric) ? 'asc' : 'desc';
          const key = Object.fromEntries(
            protocolColumns.map((column) => [column, protocol[column]]),
          );
          const best = await app.prisma.evaluation.findMany({
            where: { ...where, ...key },
            orderBy: [{ value: order }, { createdAt: 'asc' }, { id: 'asc' }],
            take: query.limit,
            include: { run: { select: { model: true } } },
          });
          return {
            protocol: {
              metric,
              dataset: protocol.datasetId,
              extractor: protocol.extractor,
              extractorName: protocol.extractorName,
              extractorSha256: protocol.extractorSha256,
              resize: protocol.resize,
              generatedSamples: protocol.generatedSamples,
              realSamples: protocol.realSamples,
              realSplit: protocol.realSplit,
            },
            order: order === 'asc' ? ('ascending' as const) : ('descending' as const),
            count: protocol._count._all,
            entries: best.map(({ run, ...evaluation }, i) => ({
              rank: i + 1,
              model: run.model,
              evaluation: evaluationView(evaluation),
            })),
          };
        }),
      );
      return { groups };
    },
  );
};
