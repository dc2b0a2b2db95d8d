/* global document, setInterval, clearInterval */
import { listRuns } from './api.js';
import { h, replaceChildren } from './dom.js';
import { formatDate, progressText, runHref, shortId, statusBadge } from './format.js';

const pageSize = 50;
const refreshMs = 5000;

/**
 * The runs table, newest first, one page per cursor. It refreshes itself every few seconds
 * while the tab is visible, so new runs and their progress show without a reload. Returns a
 * function that stops the refreshing.
 */
export function showRunList(root, cursor) {
  const body = h('tbody', { id: 'runs-body' });
  const pager = h('nav', { class: 'pager' });
  const message = h('p', { class: 'message', role: 'status' });
  replaceChildren(
    root,
    h('h2', {}, 'Runs'),
    message,
    h(
      'table',
      { class: 'runs' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Run', 'Status', 'Model', 'Dataset', 'Progress', 'Backend', 'Created'].map((title) =>
            h('th', { scope: 'col' }, title),
          ),
        ),
      ),
      body,
    ),
    pager,
  );

  let stopped = false;
  async function refresh() {
    if (stopped || document.hidden) return;
    try {
      const page = await listRuns({ limit: pageSize, cursor });
      if (stopped) return;
      replaceChildren(body, page.items.map(runRow));
      replaceChildren(message, page.items.length === 0 ? 'No runs yet.' : '');
      replaceChildren(pager, pagerLinks(cursor, page.nextCursor));
    } catch (error) {
      if (!stopped) replaceChildren(message, `Could not load runs: ${error.message}`);
    }
  }

  void refresh();
  const timer = setInterval(refresh, refreshMs);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

function runRow(run) {
  return h(
    'tr',
    { 'data-run-id': run.id },
    h('td', {}, h('a', { href: runHref(run.id), title: run.id }, h('code', {}, shortId(run.id)))),
    h('td', {}, statusBadge(run.status)),
    h('td', {}, run.model),
    h('td', {}, run.dataset),
    h(
      'td',
      {},
      h(
        'div',
        { class: 'progress-cell' },
        h('progress', { max: run.totalSteps, value: run.step }),
        h('span', {}, progressText(run.step, run.totalSteps)),
      ),
    ),
    h('td', {}, run.backend ?? '–'),
    h('td', {}, formatDate(run.createdAt)),
  );
}

function pagerLinks(cursor, nextCursor) {
  return [
    cursor ? h('a', { href: '#/' }, '← Newest runs') : null,
    nextCursor ? h('a', { href: `#/?cursor=${encodeURIComponent(nextCursor)}` }, 'Older →') : null,
  ];
}
