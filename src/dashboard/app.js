/* global document, window, location, URLSearchParams */
import { showRunList } from './run-list.js';
import { showRun } from './run-view.js';

/**
 * Two views behind the hash: `#/` (optionally `#/?cursor=…`) lists runs, `#/runs/<id>` follows
 * one run. Hash routes keep the server side to plain static files.
 */
const main = document.getElementById('main');
let leaveView = () => {};

function route() {
  leaveView();
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const run = /^\/runs\/([^/]+)$/.exec(path);
  if (run) {
    document.title = 'Run · ganforge';
    leaveView = showRun(main, decodeURIComponent(run[1]));
  } else {
    document.title = 'Runs · ganforge';
    leaveView = showRunList(main, new URLSearchParams(query).get('cursor'));
  }
}

window.addEventListener('hashchange', route);
route();
