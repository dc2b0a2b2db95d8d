/**
 * The BullMQ processor of the `training` queue: trains one run from its last checkpoint (or from
 * scratch) to its last step, writing scalars, sample grids and checkpoints as it goes.
 *
 * It runs inside the training sandbox (training-sandbox.ts), a child process of the worker, so
 * however long one step takes, the worker's own event loop stays free to renew the job's lock.
 * Between two steps it checks for a cancel request, so a cancel takes effect within one step; and
 * for the abort signal, which BullMQ raises when this worker shuts down: then the run is
 * checkpointed and handed back to the queue, for this or another worker to continue.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import * as tf from '@tensorflow/tfjs';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { BatchSampler, gatherImages, type BatchSamplerState } from '../data/batches.js';
import { loadDatasetOnce } from '../data/datasets.js';
import type { ImageDataset, ImageShape } from '../data/mnist.js';
import type { PrismaClient } from '../db/client.js';
import { GanforgeError, isGanforgeError } from '../errors.js';
import { encodeCheckpoint } from '../gan/checkpoint.js';
import { renderImageGrid } from '../gan/image-grid.js';
import { deriveSeed } from '../gan/random.js';
import type { TrainingConfig } from '../gan/training-config.js';
import { GanTrainer } from '../gan/training.js';
import { clearCancellation, isCancellationRequested } from '../queue/cancellation.js';
import type { EvaluationQueue } from '../queue/evaluation-queue.js';
import type { RunEventStream } from '../queue/event-stream.js';
import type { TrainingJobData } from '../queue/training-queue.js';
import type { ArtifactStore } from '../storage/artifacts.js';
import {
  checkpointArtifactPath,
  checkpointUrl,
  sampleArtifactPath,
  sampleUrl,
} from '../storage/run-artifacts.js';
import { restoreLatestCheckpoint } from './resume.js';
import { RunLifecycle } from './run-lifecycle.js';
import { isScheduledEvaluationStep, queueScheduledEvaluations } from './scheduled-evaluations.js';

export interface TrainingProcessorDeps {
  prisma: PrismaClient;
  redis: Redis;
  events: RunEventStream;
  artifacts: ArtifactStore;
  /** Where the run's scheduled evaluations go (config.evaluation). */
  evaluationQueue: EvaluationQueue;
  /** Redis key prefix, shared with the API (cancel requests). */
  prefix: string;
  /** The TensorFlow.js backend this worker selected at start; recorded on every run. */
  backend: string;
  logger: Logger;
  /** Called after an engine fault (engineFault), once the run is recorded as failed. */
  onEngineFault?: (fault: GanforgeError) => void;
}

export type TrainingOutcome = { status: 'completed' | 'cancelled'; step: number };

/** What the processor uses of a job: a BullMQ Job in process, a SandboxedJob in the sandbox. */
export type TrainingJob = Pick<
  Job<TrainingJobData>,
  'id' | 'data' | 'attemptsMade' | 'updateProgress' | 'moveToWait'
>;

export function createTrainingProcessor(deps: TrainingProcessorDeps) {
  const lifecycle = new RunLifecycle(deps.prisma, deps.events);

  return async function processTrainingJob(
    job: TrainingJob,
    token?: string,
    signal?: AbortSignal,
  ): Promise<TrainingOutcome> {
    const { runId } = job.data;
    const log = deps.logger.child({ runId, jobId: job.id, attempt: job.attemptsMade + 1 });
    const run = await deps.prisma.run.findUnique({ where: { id: runId } });
    if (!run) throw new UnrecoverableError(`run ${runId} does not exist`);
    if (run.status === 'cancelled') return { status: 'cancelled', step: run.step };

    try {
      return await trainRun(run.config as unknown as TrainingConfig);
    } catch (caught) {
      const fault = engineFault(caught);
      const error = fault ?? caught;
      // Bad config, a missing dataset, a divergence or an engine fault (the same config faults
      // again) fail the same way on every attempt.
      if (isGanforgeError(error) && error.statusCode !== 503) {
        const status = error.code === 'GANFORGE_ERR_DIVERGED' ? 'diverged' : 'failed';
        await lifecycle.finish(runId, status, { code: error.code, message: error.message });
        if (fault) deps.onEngineFault?.(fault);
        throw new UnrecoverableError(error.message);
      }
      throw error;
    }

    async function trainRun(config: TrainingConfig): Promise<TrainingOutcome> {
      const dataset = await loadDatasetOnce(config.dataset, 'train');
      const side = config.imageSize ?? Math.max(dataset.height, dataset.width);
      const shape =
        side === dataset.height && side === dataset.width
          ? { height: dataset.height, width: dataset.width, channels: dataset.channels }
          : { height: side, width: side, channels: dataset.channels };
      const resumed = await restoreLatestCheckpoint(deps.prisma, deps.artifacts, runId, log);
      const trainer = resumed?.trainer ?? GanTrainer.create(config, shape);
      const sampler = resumed
        ? BatchSampler.fromState(resumed.samplerState)
        : new BatchSampler(dataset.count, config.batchSize, deriveSeed(config.seed, 'data'));

      try {
        await lifecycle.markRunning(runId, trainer.step, deps.backend);
        if (resumed) {
          log.info({ step: trainer.step }, 'resumed from checkpoint');
          await deps.events.publish({
            kind: 'log',
            runId,
            step: trainer.step,
            level: 'info',
            message: `resumed from the checkpoint at step ${trainer.step}`,
          });
        }
        if (resumed && isScheduledEvaluationStep(config, resumed.checkpoint.step)) {
          await queueScheduledEvaluations(
            deps.prisma,
            deps.evaluationQueue,
            runId,
            config,
            resumed.checkpoint,
          );
        }
        log.info({ backend: deps.backend, from: trainer.step, to: config.steps }, 'training');
        return await trainSteps(config, trainer, sampler, dataset, shape);
      } finally {
        trainer.dispose();
      }
    }

    async function trainSteps(
      config: TrainingConfig,
      trainer: GanTrainer,
      sampler: BatchSampler,
      dataset: ImageDataset,
      shape: ImageShape,
    ): Promise<TrainingOutcome> {
      let windowStart = performance.now();
      let windowSteps = 0;
      let checkpointed = trainer.step;
      while (trainer.step < config.steps) {
        if (signal?.aborted) return handBack(trainer, sampler, checkpointed);
        if (await isCancellationRequested(deps.redis, deps.prefix, runId)) {
          // The steps since the last checkpoint stay: a cancelled run can be sampled and scored.
          if (trainer.step > checkpointed) await writeCheckpoint(trainer, sampler, trainer.step);
          await lifecycle.finish(runId, 'cancelled');
          await clearCancellation(deps.redis, deps.prefix, runId);
          log.info({ step: trainer.step }, 'cancelled');
          return { status: 'cancelled', step: trainer.step };
        }

        // One fresh batch per critic update (Arjovsky et al. 2017, Algorithm 1).
        const real = Array.from({ length: trainer.batchesPerStep }, () => {
          const indices = sampler.nextIndices();
          return tf.tensor4d(gatherImages(dataset, indices, shape.height), [
            indices.length,
            shape.height,
            shape.width,
            shape.channels,
          ]);
        });
        const losses = trainer.trainStep(real);
        tf.dispose(real);
        const step = trainer.step;
        windowSteps += 1;
        if (!Number.isFinite(losses.dLoss) || !Number.isFinite(losses.gLoss)) {
          throw new GanforgeError(
            'GANFORGE_ERR_DIVERGED',
            `diverged: non-finite loss at step ${step}`,
            { step, dLoss: losses.dLoss, gLoss: losses.gLoss },
          );
        }

        const last = step === config.steps;
        if (step % config.logEvery === 0 || last) {
          const now = performance.now();
          const values = {
            'loss/d': losses.dLoss,
            'loss/g': losses.gLoss,
            'd/real': losses.dReal,
            'd/fake': losses.dFake,
            ...(losses.gradientPenalty === undefined ? {} : { 'loss/gp': losses.gradientPenalty }),
            ...(losses.r1Penalty === undefined ? {} : { 'loss/r1': losses.r1Penalty }),
            ...(trainer.phase
              ? { 'phase/resolution': trainer.phase.resolution, 'phase/alpha': trainer.phase.alpha }
              : {}),
            'perf/steps_per_second': (windowSteps * 1000) / Math.max(now - windowStart, 1e-3),
          };
          windowStart = now;
          windowSteps = 0;
          await writeScalars(step, values);
          await job.updateProgress({ step, totalSteps: config.steps });
        }
        if (step % config.sampleEvery === 0 || last) {
          await writeSample(trainer, step);
          log.info({ step, dLoss: losses.dLoss, gLoss: losses.gLoss }, 'sample written');
        }
        if (step % config.checkpointEvery === 0 || last) {
          const checkpoint = await writeCheckpoint(trainer, sampler, step);
          checkpointed = step;
          if (isScheduledEvaluationStep(config, step)) {
            await queueScheduledEvaluations(
              deps.prisma,
              deps.evaluationQueue,
              runId,
              config,
              checkpoint,
            );
          }
        }
        // Lets the sandbox's IPC (a cancel from the worker) and Redis replies through.
        await yieldToEventLoop();
      }

      await lifecycle.finish(runId, 'completed');
      log.info({ step: trainer.step }, 'completed');
      return { status: 'completed', step: trainer.step };
    }

    /**
     * This worker is stopping: save the current step (unless it is saved already) and put the job
     * back in the queue. A hand-back is neither a failure nor a stall, so it costs the run none of
     * its retries and none of its worker deaths.
     */
    async function handBack(
      trainer: GanTrainer,
      sampler: BatchSampler,
      checkpointed: number,
    ): Promise<never> {
      if (trainer.step > checkpointed) await writeCheckpoint(trainer, sampler, trainer.step);
      await lifecycle.requeue(runId);
      log.info({ step: trainer.step }, 'worker stopping: run handed back to the queue');
      await job.moveToWait(token);
      throw new WaitingError();
    }

    async function writeScalars(step: number, values: Record<string, number>): Promise<void> {
      // A resumed attempt repeats the steps after its checkpoint; their rows are already there.
      await deps.prisma.scalar.createMany({
        data: Object.entries(values).map(([name, value]) => ({ runId, step, name, value })),
        skipDuplicates: true,
      });
      await deps.prisma.run.update({ where: { id: runId }, data: { step } });
      await deps.events.publish({ kind: 'scalars', runId, step, values });
    }

    async function writeSample(trainer: GanTrainer, step: number): Promise<void> {
      const images = trainer.sampleFixed();
      const grid = renderImageGrid(images);
      images.dispose();
      const stored = await deps.artifacts.put(sampleArtifactPath(runId, step), grid.png);
      const row = { path: stored.path, width: grid.width, height: grid.height };
      await deps.prisma.sample.upsert({
        where: { runId_step: { runId, step } },
        create: { runId, step, ...row },
        update: row,
      });
      await deps.events.publish({
        kind: 'sample',
        runId,
        step,
        url: sampleUrl(runId, step),
        width: grid.width,
        height: grid.height,
      });
    }

    async function writeCheckpoint(
      trainer: GanTrainer,
      sampler: BatchSampler,
      step: number,
    ): Promise<{ id: string; step: number }> {
      const state = trainer.exportState();
      const samplerState: BatchSamplerState = sampler.getState();
      const encoded = encodeCheckpoint({
        ...state,
        meta: { ...state.meta, sampler: samplerState },
      });
      const stored = await deps.artifacts.put(checkpointArtifactPath(runId, step), encoded);
      const row = { path: stored.path, sha256: stored.sha256, bytes: stored.bytes };
      const checkpoint = await deps.prisma.checkpoint.upsert({
        where: { runId_step: { runId, step } },
        create: { runId, step, ...row },
        update: row,
      });
      await lifecycle.recordStep(runId, step);
      await deps.events.publish({
        kind: 'checkpoint',
        runId,
        step,
        url: checkpointUrl(runId, step),
        sha256: stored.sha256,
        bytes: stored.bytes,
      });
      return checkpoint;
    }
  };
}

/**
 * A fault of the compute engine as a coded error, or null for any other error: a WebAssembly trap
 * (an abort when its heap cannot grow, an access out of bounds) or a RangeError from a typed
 * array over its heap (an allocation that did not fit). After one, the engine's heap is not to be
 * trusted: the sandbox process ends (training-sandbox.ts) and a fresh one takes the next job.
 */
export function engineFault(error: unknown): GanforgeError | null {
  if (!(error instanceof WebAssembly.RuntimeError) && !(error instanceof RangeError)) return null;
  return new GanforgeError(
    'GANFORGE_ERR_ENGINE_FAULT',
    `the compute engine failed (${error.message}); on wasm this is most often its 4 GB memory ` +
      'limit: try a smaller imageSize, width or batchSize',
  );
}
