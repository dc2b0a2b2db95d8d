/* global fetch, location, URLSearchParams */

/** An error answer of the API: `code` is its stable GANFORGE_ERR_* code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = body?.error ?? {};
    throw new ApiError(
      response.status,
      error.code ?? `HTTP_${response.status}`,
      error.message ?? response.statusText,
    );
  }
  return body;
}

function runPath(runId) {
  return `/v1/runs/${encodeURIComponent(runId)}`;
}

/** One page of runs, newest first: `{ items, nextCursor }`. */
export function listRuns({ limit, cursor }) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor) query.set('cursor', cursor);
  return getJson(`/v1/runs?${query}`);
}

export function getRun(runId) {
  return getJson(runPath(runId));
}

/**
 * The named series from step `since` on, as `Map<name, { steps, values }>`. The endpoint
 * answers in pages; each next page starts at the `nextSince` step of the one before.
 */
export async function getScalars(runId, names, since = 0) {
  const series = new Map(names.map((name) => [name, { steps: [], values: [] }]));
  for (;;) {
    const query = new URLSearchParams({ since: String(since) });
    for (const name of names) query.append('name', name);
    const page = await getJson(`${runPath(runId)}/scalars?${query}`);
    for (const { name, steps, values } of page.series) {
      const into = series.get(name);
      if (!into) continue;
      into.steps.push(...steps);
      into.values.push(...values);
    }
    if (page.nextSince === null || page.nextSince <= since) return series;
    since = page.nextSince;
  }
}

/** The run's sample grids, ascending by step. */
export async function listSamples(runId) {
  const page = await getJson(`${runPath(runId)}/samples`);
  return page.items;
}

/** The run's evaluations, by step. */
export async function listEvaluations(runId) {
  const page = await getJson(`${runPath(runId)}/evaluations`);
  return page.items;
}

/** WebSocket address of the run's event stream, resuming after `afterSeq` when given. */
export function streamUrl(runId, afterSeq) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const query = afterSeq ? `?${new URLSearchParams({ after: afterSeq })}` : '';
  return `${scheme}://${location.host}${runPath(runId)}/stream${query}`;
}
