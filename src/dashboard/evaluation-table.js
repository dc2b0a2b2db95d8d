import { h, replaceChildren } from './dom.js';
import { formatNumber } from './format.js';

const pending = new Set(['queued', 'running']);

/**
 * The run's evaluations as a table, one row per evaluation, by step then metric. Rows come from
 * GET /v1/runs/:id/evaluations and are updated by `evaluation` events, which carry the same
 * fields except the full result.
 */
export class EvaluationTable {
  constructor() {
    this.rows = new Map();
    this.body = h('tbody', {});
    this.empty = h('p', { class: 'message', id: 'evaluations-empty' }, 'No evaluations yet.');
    this.element = h(
      'div',
      { id: 'evaluations' },
      this.empty,
      h(
        'table',
        { class: 'runs evaluations' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Step', 'Metric', 'Value', 'Status', 'Extractor', 'Samples', 'Real'].map((label) =>
              h('th', {}, label),
            ),
          ),
        ),
        this.body,
      ),
    );
  }

  /** Adds or updates evaluations (rows of the REST list or fields of events). */
  set(evaluations) {
    for (const evaluation of evaluations) {
      const id = evaluation.id ?? evaluation.evaluationId;
      this.rows.set(id, { ...this.rows.get(id), ...evaluation, id });
    }
  }

  hasPending() {
    return [...this.rows.values()].some((row) => pending.has(row.status));
  }

  render() {
    const rows = [...this.rows.values()].sort(
      (a, b) => a.step - b.step || a.metric.localeCompare(b.metric),
    );
    this.empty.hidden = rows.length > 0;
    replaceChildren(this.body, rows.map(evaluationRow));
  }
}

function evaluationRow(row) {
  const value = row.status === 'failed' ? (row.errorCode ?? 'failed') : formatNumber(row.value);
  return h(
    'tr',
    { 'data-evaluation-id': row.id, 'data-status': row.status },
    h('td', {}, row.step),
    h('td', {}, row.metric),
    h('td', { class: 'evaluation-value' }, value),
    h('td', {}, row.status),
    h('td', { title: row.extractorSha256 ?? '' }, row.extractorName ?? row.extractor ?? '–'),
    h('td', {}, row.generatedSamples),
    h('td', {}, row.realSamples > 0 ? `${row.realSamples} ${row.realSplit}` : '–'),
  );
}
