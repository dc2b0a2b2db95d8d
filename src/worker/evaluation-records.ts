/**
 * The end of an evaluation, as stored and announced: the row's final state, then an `evaluation`
 * event on the run's stream with the value and the protocol.
 */
import type { Prisma, PrismaClient } from '../db/client.js';
import type { Evaluation } from '../db/generated/client.js';
import type { ErrorCode } from '../errors.js';
import type { RunEventStream } from '../queue/event-stream.js';

/** The protocol facts known only once the extractor is loaded. */
export interface ExtractorFacts {
  extractorName: string;
  extractorSha256: string | null;
  resize: string;
}

export async function completeEvaluation(
  prisma: PrismaClient,
  events: RunEventStream,
  id: string,
  score: ExtractorFacts & { value: number; result: Record<string, unknown> },
): Promise<void> {
  const row = await prisma.evaluation.update({
    where: { id },
    data: {
      ...score,
      status: 'completed',
      result: score.result as Prisma.InputJsonObject,
      finishedAt: new Date(),
    },
  });
  await publishEvaluation(events, row);
}

/** Fails an evaluation that has not finished; false when it had (nothing changes then). */
export async function failEvaluation(
  prisma: PrismaClient,
  events: RunEventStream,
  id: string,
  code: ErrorCode,
  message: string,
): Promise<boolean> {
  const { count } = await prisma.evaluation.updateMany({
    where: { id, status: { in: ['queued', 'running'] } },
    data: { status: 'failed', errorCode: code, errorMessage: message, finishedAt: new Date() },
  });
  if (count === 0) return false;
  await publishEvaluation(events, await prisma.evaluation.findUniqueOrThrow({ where: { id } }));
  return true;
}

async function publishEvaluation(events: RunEventStream, row: Evaluation): Promise<void> {
  await events.publish({
    kind: 'evaluation',
    runId: row.runId,
    step: row.step,
    evaluationId: row.id,
    metric: row.metric,
    status: row.status === 'completed' ? 'completed' : 'failed',
    value: row.value,
    datasetId: row.datasetId,
    extractorName: row.extractorName,
    extractorSha256: row.extractorSha256,
    resize: row.resize,
    generatedSamples: row.generatedSamples,
    realSamples: row.realSamples,
    realSplit: row.realSplit,
    ...(row.errorCode ? { errorCode: row.errorCode } : {}),
  });
}
