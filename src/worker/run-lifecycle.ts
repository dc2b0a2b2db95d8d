/**
 * The run row's status and its `status` events move together: every transition goes through
 * here, so the database, the event stream and the dashboards never disagree.
 */
import type { PrismaClient } from '../db/client.js';
import type { ErrorCode } from '../errors.js';
import type { RunEventStream } from '../queue/event-stream.js';
import type { RunStatus } from '../queue/run-events.js';

const unfinished: RunStatus[] = ['queued', 'running', 'paused'];

export interface RunFailure {
  code: ErrorCode;
  message: string;
}

export class RunLifecycle {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly events: RunEventStream,
  ) {}

  async markRunning(runId: string, step: number, backend: string): Promise<void> {
    const run = await this.prisma.run.update({
      where: { id: runId },
      data: { status: 'running', backend, step, errorCode: null, errorMessage: null },
    });
    if (!run.startedAt) {
      await this.prisma.run.update({ where: { id: runId }, data: { startedAt: new Date() } });
    }
    await this.events.publish({ kind: 'status', runId, step, status: 'running', backend });
  }

  /** A run that a stopping worker handed back waits in the queue again. */
  async requeue(runId: string): Promise<void> {
    const { count } = await this.prisma.run.updateMany({
      where: { id: runId, status: 'running' },
      data: { status: 'queued' },
    });
    if (count === 0) return;
    const run = await this.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    await this.events.publish({ kind: 'status', runId, step: run.step, status: 'queued' });
  }

  async recordStep(runId: string, step: number): Promise<void> {
    await this.prisma.run.update({ where: { id: runId }, data: { step } });
  }

  /**
   * Moves an unfinished run to a terminal status. Runs that already ended keep their status, so a
   * late reconciler never overwrites `cancelled` or `diverged` with `failed`. Returns whether
   * this call made the transition.
   */
  async finish(
    runId: string,
    status: Exclude<RunStatus, 'queued' | 'running' | 'paused'>,
    failure?: RunFailure,
  ): Promise<boolean> {
    const { count } = await this.prisma.run.updateMany({
      where: { id: runId, status: { in: unfinished } },
      data: {
        status,
        finishedAt: new Date(),
        errorCode: failure?.code ?? null,
        errorMessage: failure?.message ?? null,
      },
    });
    if (count === 0) return false;

    const run = await this.prisma.run.findUniqueOrThrow({ where: { id: runId } });
    await this.events.publish({
      kind: 'status',
      runId,
      step: run.step,
      status,
      ...(failure ? { errorCode: failure.code, errorMessage: failure.message } : {}),
    });
    return true;
  }
}
