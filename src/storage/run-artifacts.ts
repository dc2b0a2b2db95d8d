/**
 * Where a run's artifacts live in the store, and the API paths that serve them. The worker writes
 * with these names and the API reads with them, so both sides agree in one place.
 */
const stepWidth = 7;

function stepName(step: number): string {
  return `step-${String(step).padStart(stepWidth, '0')}`;
}

export function sampleArtifactPath(runId: string, step: number): string {
  return `runs/${runId}/samples/${stepName(step)}.png`;
}

export function checkpointArtifactPath(runId: string, step: number): string {
  return `runs/${runId}/checkpoints/${stepName(step)}.ckpt`;
}

export function sampleUrl(runId: string, step: number): string {
  return `/v1/runs/${runId}/samples/${step}.png`;
}

export function checkpointUrl(runId: string, step: number): string {
  return `/v1/runs/${runId}/checkpoints/${step}/file`;
}
