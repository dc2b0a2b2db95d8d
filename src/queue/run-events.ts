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
  | (EventBase & { kind: 'log'; level: 'info' | 'warn' | 'error'; message: string });

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
