import { h } from './dom.js';

const statuses = new Set([
  'queued',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'diverged',
]);

/** A coloured label for a run status; unknown values render as plain text. */
export function statusBadge(status, attributes = {}) {
  const known = statuses.has(status) ? status : 'unknown';
  return h('span', { class: `badge status-${known}`, ...attributes }, String(status));
}

/** Sets a badge made by statusBadge to another status. */
export function setStatusBadge(badge, status) {
  const known = statuses.has(status) ? status : 'unknown';
  badge.className = `badge status-${known}`;
  badge.textContent = String(status);
}

/** Four significant digits: enough to follow a loss curve, short enough to read. */
export function formatNumber(value) {
  if (!Number.isFinite(value)) return '–';
  return Math.abs(value) >= 1e4 || (value !== 0 && Math.abs(value) < 1e-3)
    ? value.toExponential(2)
    : String(Number(value.toPrecision(4)));
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(iso) {
  return iso ? dateFormat.format(new Date(iso)) : '–';
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Run ids are UUIDs; the first block tells runs apart on one screen. */
export function shortId(id) {
  return String(id).slice(0, 8);
}

export function progressText(step, totalSteps) {
  const percent = totalSteps > 0 ? Math.floor((100 * step) / totalSteps) : 0;
  return `step ${step} / ${totalSteps} (${percent}%)`;
}

export function runHref(runId) {
  return `#/runs/${encodeURIComponent(runId)}`;
}
