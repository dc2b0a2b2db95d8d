/**
 * The BullMQ processor of the `evaluation` queue: scores one checkpoint with one metric and stores
 * the score with its protocol. It restores the checkpoint the way a resumed run does, generates
 * the evaluation's images with the run's sampling generator in chunks, extracts their features,
 * compares them with the real split's (cached by the extractor side), writes the row and publishes
 * an `evaluation` event on the run's stream.
 *
 * It runs in the worker's own process, whose event loop renews the locks of all its jobs (see
 * DESIGN.md, Processes): images are generated and extracted in short chunks with a yield between
 * them, and the metric, a long synchronous computation, runs on a worker thread.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { PrismaClient } from '../db/client.js';
import type { Evaluation } from '../db/generated/client.js';
import { getDataset, loadDatasetOnce } from '../data/datasets.js';
import type { DatasetSplit } from '../data/mnist.js';
import { GanforgeError, isGanforgeError } from '../errors.js';
import type { ExtractorKind, MetricName } from '../gan/training-config.js';
import { GanTrainer } from '../gan/training.js';
import type {
  ExtractedFeatures,
  ExtractorContext,
  ExtractorRequest,
  FeatureExtractor,
} from '../metrics/extractors/feature-extractor.js';
import type { EvaluationJobData } from '../queue/evaluation-queue.js';
import type { RunEventStream } from '../queue/event-stream.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import { completeEvaluation, failEvaluation, type ExtractorFacts } from './evaluation-records.js';
import { needsRealFeatures, type Score } from './evaluation-score.js';
import { scoreOffThread } from './score-off-thread.js';
import {
  extractGeneratedFeatures,
  generatedImageChunks,
  generatedPixels,
  pixelRows,
} from './evaluation-samples.js';
import { restoreStoredCheckpoint } from '../storage/checkpoint-restore.js';

/** Where feature extractors come from: the real ones in production, small ones in tests. */
export interface EvaluationDependencies {
  loadExtractor(request: ExtractorRequest, context: ExtractorContext): Promise<FeatureExtractor>;
  /** Features of the first `count` images of a dataset split, cached per extractor hash. */
  realFeatures(
    extractor: FeatureExtractor,
    datasetId: string,
    split: DatasetSplit,
    count: number,
    context: ExtractorContext,
  ): Promise<ExtractedFeatures>;
}

export interface EvaluationProcessorDeps {
  prisma: PrismaClient;
  events: RunEventStream;
  artifacts: ArtifactStore;
  extractors: EvaluationDependencies;
  extractorContext: ExtractorContext;
  logger: Logger;
}

export type EvaluationJob = Pick<Job<EvaluationJobData>, 'id' | 'data' | 'attemptsMade' | 'opts'>;

export interface EvaluationOutcome {
  status: 'completed' | 'failed';
  value: number | null;
}

const pixelFacts: ExtractorFacts = {
  extractorName: 'pixels',
  extractorSha256: null,
  resize: 'none',
};

export function createEvaluationProcessor(deps: EvaluationProcessorDeps) {
  return async function processEvaluationJob(job: EvaluationJob): Promise<EvaluationOutcome> {
    const { evaluationId } = job.data;
    const log = deps.logger.child({ evaluationId, jobId: job.id, attempt: job.attemptsMade + 1 });
    const evaluation = await deps.prisma.evaluation.findUnique({ where: { id: evaluationId } });
    if (!evaluation) throw new UnrecoverableError(`evaluation ${evaluationId} does not exist`);
    if (evaluation.status === 'completed' || evaluation.status === 'failed') {
      return { status: evaluation.status, value: evaluation.value };
    }

    await deps.prisma.evaluation.update({
      where: { id: evaluationId },
      data: { status: 'running', startedAt: new Date() },
    });
    try {
      const started = performance.now();
      const { score, facts } = await evaluate(evaluation);
      await completeEvaluation(deps.prisma, deps.events, evaluationId, { ...score, ...facts });
      log.info(
        {
          metric: evaluation.metric,
          step: evaluation.step,
          value: score.value,
          ms: performance.now() - started,
        },
        'evaluation completed',
      );
      return { status: 'completed', value: score.value };
    } catch (error) {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (isGanforgeError(error) && error.statusCode !== 503) {
        await failEvaluation(deps.prisma, deps.events, evaluationId, error.code, error.message);
        log.info({ err: error }, 'evaluation failed');
        throw new UnrecoverableError(error.message);
      }
      if (lastAttempt) {
        await failEvaluation(
          deps.prisma,
          deps.events,
          evaluationId,
          'GANFORGE_ERR_INTERNAL',
          String(error),
        );
      }
      throw error;
    }
  };

  async function evaluate(
    evaluation: Evaluation,
  ): Promise<{ score: Score; facts: ExtractorFacts }> {
    const trainer = await restoreCheckpoint(evaluation.checkpointId);
    try {
      const shape = getDataset(evaluation.datasetId).shape;
      const chunks = () => generatedImageChunks(trainer, evaluation.generatedSamples, shape);
      const metric = evaluation.metric as MetricName;
      if (metric === 'parzen') {
        const generated = await generatedPixels(chunks(), evaluation.generatedSamples);
        const validation = await realPixels(evaluation.datasetId, 'train', evaluation.realSamples);
        const test = await realPixels(evaluation.datasetId, 'test', evaluation.realSamples);
        const score = await scoreOffThread({ metric, generated, validation, test });
        // Images of a run padded to a larger side are cut back to the dataset's, as real ones.
        const cropped =
          trainer.imageShape.height !== shape.height || trainer.imageShape.width !== shape.width;
        const resize = cropped ? `center-crop-${shape.height}` : pixelFacts.resize;
        return { score, facts: { ...pixelFacts, resize } };
      }

      const request = {
        kind: evaluation.extractor as ExtractorKind,
        datasetId: evaluation.datasetId,
      };
      const extractor = await deps.extractors.loadExtractor(request, deps.extractorContext);
      try {
        const generated = await extractGeneratedFeatures(
          chunks(),
          extractor,
          evaluation.generatedSamples,
        );
        const real = needsRealFeatures(metric)
          ? await deps.extractors.realFeatures(
              extractor,
              evaluation.datasetId,
              evaluation.realSplit as DatasetSplit,
              evaluation.realSamples,
              deps.extractorContext,
            )
          : null;
        const score = await scoreOffThread({
          metric,
          generated,
          real,
          extractorName: extractor.name,
        });
        const facts = {
          extractorName: extractor.name,
          extractorSha256: extractor.sha256,
          resize: extractor.resize,
        };
        return { score, facts };
      } finally {
        extractor.dispose();
      }
    } finally {
      trainer.dispose();
    }
  }

  /** The checkpoint's networks, after checking its file against the recorded hash. */
  async function restoreCheckpoint(checkpointId: string): Promise<GanTrainer> {
    const checkpoint = await deps.prisma.checkpoint.findUnique({ where: { id: checkpointId } });
    if (!checkpoint) {
      throw new GanforgeError('GANFORGE_ERR_CHECKPOINT_NOT_FOUND', 'the checkpoint is gone', {
        checkpointId,
      });
    }
    return restoreStoredCheckpoint(deps.artifacts, checkpoint);
  }

  async function realPixels(datasetId: string, split: DatasetSplit, count: number) {
    const dataset = await loadDatasetOnce(datasetId, split);
    const cols = dataset.height * dataset.width * dataset.channels;
    const rows = Math.min(count, dataset.count);
    return pixelRows(dataset.images.subarray(0, rows * cols), rows, cols);
  }
}
