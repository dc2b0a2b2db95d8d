/* global requestAnimationFrame, cancelAnimationFrame, setTimeout, clearTimeout */
import { getRun, getScalars, listEvaluations, listSamples } from './api.js';
import { h, replaceChildren } from './dom.js';
import {
  formatBytes,
  formatDate,
  formatNumber,
  progressText,
  setStatusBadge,
  statusBadge,
} from './format.js';
import { EvaluationTable } from './evaluation-table.js';
import { LossChart } from './loss-chart.js';
import { RunStream } from './run-stream.js';

const lossNames = ['loss/d', 'loss/g'];
const stats = [
  ['loss/d', 'D loss'],
  ['loss/g', 'G loss'],
  ['d/real', 'D(x)'],
  ['d/fake', 'D(G(z))'],
  ['perf/steps_per_second', 'steps/s'],
];
const terminalStatuses = new Set(['completed', 'failed', 'cancelled', 'diverged']);
const eventLogLimit = 100;
/**
 * How often a finished run's page reloads its evaluations while some are pending: those of the
 * last checkpoint finish after the run, when the stream has closed.
 */
const evaluationPollMs = 5000;

/** Shows one run and follows it live; returns a function that stops following. */
export function showRun(root, runId) {
  const view = new RunView(root, runId);
  void view.load();
  return () => view.dispose();
}

/**
 * The page of one run. It starts from the REST endpoints (the run, its loss history, its
 * newest sample grid), then applies the run's live events. Events only change the view's state;
 * the DOM and the chart are brought up to date once per animation frame, so a replay of
 * thousands of events costs a handful of redraws.
 */
class RunView {
  constructor(root, runId) {
    this.root = root;
    this.runId = runId;
    this.disposed = false;
    this.frame = undefined;
    this.chartDirty = false;
    this.latestStats = new Map();
    this.latestStatsStep = -1;
    this.sample = undefined;
    this.evaluations = new EvaluationTable();
    this.evaluationPoll = undefined;
    replaceChildren(root, h('p', { class: 'message' }, 'Loading run…'));
  }

  async load() {
    let run;
    let losses;
    let samples;
    let evaluations;
    try {
      [run, losses, samples, evaluations] = await Promise.all([
        getRun(this.runId),
        getScalars(this.runId, lossNames),
        listSamples(this.runId),
        listEvaluations(this.runId),
      ]);
    } catch (error) {
      if (!this.disposed) this.showLoadError(error);
      return;
    }
    if (this.disposed) return;

    this.run = run;
    this.step = run.step;
    this.render();
    for (const [name, { steps, values }] of losses) {
      const isD = name === 'loss/d';
      steps.forEach((step, i) =>
        this.chart.set(step, isD ? values[i] : NaN, isD ? NaN : values[i]),
      );
    }
    this.chartDirty = true;
    this.sample = samples.at(-1);
    this.evaluations.set(evaluations);
    await this.loadLatestStats(losses);
    this.flush();

    // A finished run is followed too: the server replays its kept events (the event log's only
    // source) and then closes the socket.
    this.stream = new RunStream(this.runId, {
      onEvent: (event) => this.apply(event),
      onState: (state, delayMs) => this.setConnection(state, delayMs),
    });
    this.stream.start();
  }

  /** The newest value of each statistic, read from the step of the newest loss. */
  async loadLatestStats(losses) {
    const lastStep = Math.max(-1, ...[...losses.values()].map((s) => s.steps.at(-1) ?? -1));
    if (lastStep < 0) return;
    const names = stats.map(([name]) => name);
    const latest = await getScalars(this.runId, names, lastStep).catch(() => new Map());
    for (const [name, { steps, values }] of latest) {
      if (steps.length > 0) this.latestStats.set(name, values.at(-1));
    }
    this.latestStatsStep = lastStep;
  }

  dispose() {
    this.disposed = true;
    this.stream?.close();
    this.chart?.destroy();
    clearTimeout(this.evaluationPoll);
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
  }

  apply(event) {
    if (this.disposed || event.runId !== this.runId) return;
    this.step = Math.max(this.step, event.step);
    switch (event.kind) {
      case 'scalars':
        this.chart.set(event.step, event.values['loss/d'], event.values['loss/g']);
        this.chartDirty = true;
        if (event.step >= this.latestStatsStep) {
          this.latestStatsStep = event.step;
          for (const [name, value] of Object.entries(event.values)) {
            this.latestStats.set(name, value);
          }
        }
        break;
      case 'sample':
        if (!this.sample || event.step >= this.sample.step) this.sample = event;
        break;
      case 'status':
        this.run = {
          ...this.run,
          status: event.status,
          backend: event.backend ?? this.run.backend,
          errorCode: event.errorCode ?? this.run.errorCode,
          errorMessage: event.errorMessage ?? this.run.errorMessage,
        };
        this.logEvent(event, `status ${event.status}`);
        break;
      case 'checkpoint':
        this.logEvent(event, `checkpoint saved (${formatBytes(event.bytes)})`);
        break;
      case 'log':
        this.logEvent(event, event.message, event.level);
        break;
      case 'evaluation':
        this.evaluations.set([event]);
        this.logEvent(
          event,
          event.status === 'completed'
            ? `${event.metric} ${formatNumber(event.value)}`
            : `${event.metric} failed: ${event.errorCode ?? ''}`,
          event.status === 'completed' ? 'info' : 'warn',
        );
        break;
    }
    this.scheduleFlush();
  }

  /** A finished run has its final timestamps in the database; show them. */
  async refreshRun() {
    const run = await getRun(this.runId).catch(() => undefined);
    if (!run || this.disposed) return;
    // The final status event is the newer word should the database read lag behind it.
    const finalStatus = terminalStatuses.has(this.run.status) ? this.run.status : run.status;
    this.run = { ...run, status: finalStatus };
    this.step = Math.max(this.step, run.step);
    this.scheduleFlush();
    await this.pollEvaluations();
  }

  /** Reloads the evaluations until none is queued or running. */
  async pollEvaluations() {
    const evaluations = await listEvaluations(this.runId).catch(() => undefined);
    if (this.disposed) return;
    if (evaluations) this.evaluations.set(evaluations);
    this.scheduleFlush();
    if (this.evaluations.hasPending()) {
      this.evaluationPoll = setTimeout(() => void this.pollEvaluations(), evaluationPollMs);
    }
  }

  scheduleFlush() {
    if (this.frame !== undefined) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      this.flush();
    });
  }

  flush() {
    if (this.disposed) return;
    const { run, parts } = this;
    setStatusBadge(parts.status, run.status);
    parts.progress.max = run.totalSteps;
    parts.progress.value = this.step;
    parts.stepText.textContent = progressText(this.step, run.totalSteps);
    parts.root.dataset.step = String(this.step);
    replaceChildren(parts.meta, metaItems(run));
    replaceChildren(
      parts.error,
      run.errorCode ? `${run.errorCode}: ${run.errorMessage ?? ''}` : '',
    );
    parts.error.hidden = !run.errorCode;
    for (const [name] of stats) {
      parts.stats.get(name).textContent = formatNumber(this.latestStats.get(name));
    }
    if (this.chartDirty) {
      this.chartDirty = false;
      this.chart.redraw();
    }
    this.showSample();
    this.evaluations.render();
  }

  showSample() {
    const { image, caption } = this.parts;
    if (!this.sample) {
      caption.textContent = 'No sample yet.';
      return;
    }
    if (image.getAttribute('src') !== this.sample.url) {
      image.setAttribute('src', this.sample.url);
      image.dataset.step = String(this.sample.step);
      image.hidden = false;
    }
    caption.textContent = `G(fixed noise) at step ${this.sample.step}`;
  }

  logEvent(event, text, level = 'info') {
    const list = this.parts.eventLog;
    list.prepend(
      h(
        'li',
        { class: `log-${level}` },
        h('span', { class: 'log-step' }, `step ${event.step}`),
        ' ',
        text,
      ),
    );
    while (list.children.length > eventLogLimit) list.lastElementChild.remove();
  }

  setConnection(state, delayMs) {
    if (this.disposed) return;
    if (state === 'finished' && this.stream) void this.refreshRun();
    const labels = {
      connecting: 'connecting…',
      live: 'live',
      retrying: `connection lost; retrying in ${Math.round((delayMs ?? 0) / 100) / 10} s`,
      finished: 'run finished',
      closed: 'not following',
    };
    this.parts.connection.textContent = labels[state] ?? state;
    this.parts.connection.dataset.state = state;
  }

  showLoadError(error) {
    const text =
      error.status === 404
        ? `No run with id ${this.runId}.`
        : `Could not load run: ${error.message}`;
    replaceChildren(
      this.root,
      h('p', {}, h('a', { href: '#/' }, '← All runs')),
      h('p', { class: 'message error', role: 'alert' }, text),
    );
  }

  render() {
    const parts = {
      root: h('article', { class: 'run', id: 'run-view', 'data-run-id': this.runId }),
      status: statusBadge(this.run.status, { id: 'run-status' }),
      connection: h('span', { class: 'connection', id: 'connection-state' }),
      meta: h('dl', { class: 'meta' }),
      error: h('p', { class: 'message error', id: 'run-error', role: 'alert', hidden: true }),
      progress: h('progress', { id: 'run-progress', max: 1, value: 0 }),
      stepText: h('span', { id: 'run-step' }),
      stats: new Map(stats.map(([name]) => [name, h('dd', { id: statId(name) }, '–')])),
      chartBox: h('div', { class: 'chart', id: 'loss-chart' }),
      image: h('img', { id: 'sample-image', alt: 'Generated samples', hidden: true }),
      caption: h('figcaption', { id: 'sample-caption' }),
      eventLog: h('ol', { class: 'event-log', id: 'event-log' }),
    };
    this.parts = parts;
    replaceChildren(
      parts.root,
      h(
        'header',
        { class: 'run-header' },
        h('h2', {}, 'Run ', h('code', {}, this.runId)),
        parts.status,
        parts.connection,
      ),
      parts.meta,
      parts.error,
      h('div', { class: 'progress-row' }, parts.progress, parts.stepText),
      h(
        'dl',
        { class: 'stats' },
        stats.map(([name, label]) => h('div', {}, h('dt', {}, label), parts.stats.get(name))),
      ),
      h(
        'div',
        { class: 'panels' },
        h('figure', { class: 'panel' }, h('figcaption', {}, 'Losses'), parts.chartBox),
        h('figure', { class: 'panel sample' }, parts.image, parts.caption),
      ),
      h('section', { class: 'panel' }, h('h3', {}, 'Evaluations'), this.evaluations.element),
      h('section', { class: 'panel' }, h('h3', {}, 'Events'), parts.eventLog),
    );
    replaceChildren(this.root, h('p', {}, h('a', { href: '#/' }, '← All runs')), parts.root);
    this.chart = new LossChart(parts.chartBox);
  }
}

function statId(name) {
  return `stat-${name.replace(/[^a-z]+/g, '-')}`;
}

function metaItems(run) {
  const items = [
    ['Model', run.model],
    ['Dataset', run.dataset],
    ['Backend', run.backend ?? '–'],
    ['Seed', run.seed],
    ['Batch size', run.config?.batchSize ?? '–'],
    ['Created', formatDate(run.createdAt)],
    ['Started', formatDate(run.startedAt)],
    ['Finished', formatDate(run.finishedAt)],
  ];
  return items.map(([label, value]) => h('div', {}, h('dt', {}, label), h('dd', {}, value)));
}
