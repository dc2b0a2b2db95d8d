/**
 * Events of one run, as the worker publishes them to the run's Redis stream and the API
 * forwards them over WebSockets. `seq` is the Redis stream id, assigned on publish.
 */
export type RunStatus =
  'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled' | 'diverged';

interface EventBase {
  runId: string;
  step: number;
}

export type RunEventBody =
  | (EventBase & {
      kind: 'status';
      status: RunStatus;
      backend?: string;
      errorCode?: string;
      errorMessage?: string;
    })
  | (EventBase & { kind: 'scalars'; values: Record<string, number> })
  | (EventBase & { kind: 'sample'; url: string; width: number; height: number })
  | (EventBase & { kind: 'checkpoint'; url: string; sha256: string; bytes: number })
  | (EventBase & { kind: 'log'; level: 'info' | 'warn' | 'error'; message: string })
  | (EventBase & EvaluationEventFields & { kind: 'evaluation' });

/**
 * A finished evaluation of the checkpoint at `step`, with its protocol. It can arrive after the
 * run's terminal status: an evaluation of the last checkpoint finishes after the run does.
 */
export interface EvaluationEventFields {
  evaluationId: string;
  metric: string;
  status: 'completed' | 'failed';
  /** The headline number (see GET /v1/runs/:id/evaluations); null when it failed. */
  value: number | null;
  datasetId: string;
  extractorName: string | null;
  extractorSha256: string | null;
  resize: string | null;
  generatedSamples: number;
  realSamples: number;
  realSplit: string;
  errorCode?: string;
}

export type RunEvent = RunEventBody & { seq: string };

export const terminalStatuses: readonly RunStatus[] = [
  'completed',
  'failed',
  'cancelled',
  'diverged',
];

export function isTerminalStatus(status: RunStatus): boolean {
  return terminalStatuses.includes(status);
}
