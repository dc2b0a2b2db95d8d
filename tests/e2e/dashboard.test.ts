/**
 * The dashboard in a real browser (the system's Chromium) against the real API, Postgres and
 * Redis. The test plays the worker: it writes rows and artifacts and publishes events into the
 * run's stream, and the page has to show each of them while it stays open: the step, the loss
 * chart's points, the newest sample grid, the final status, also across a dropped socket.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { dashboardPlugin } from '../../src/api/plugins/dashboard.js';
import { loadConfig } from '../../src/config.js';
import { RunEventStream } from '../../src/queue/event-stream.js';
import type { RunEvent } from '../../src/queue/run-events.js';
import { ArtifactStore } from '../../src/storage/artifacts.js';
import { sampleArtifactPath, sampleUrl } from '../../src/storage/run-artifacts.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const prefix = `test-dashboard-${process.pid}`;
/** Longest the page may take to show an event (it redraws once per animation frame). */
const shown = { timeout: 5000 };

let db: TestDatabase;
let redis: Redis;
let app: FastifyInstance;
let events: RunEventStream;
let artifacts: ArtifactStore;
let artifactsDir: string;
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  artifactsDir = await mkdtemp(path.join(tmpdir(), 'ganforge-dashboard-'));
  const config = {
    ...loadConfig({}),
    databaseUrl: db.url,
    artifactsDir,
    prefix,
    logLevel: 'silent',
  };
  app = await buildApp({ config, prisma: db.prisma, redis, logger: false });
  if (!app.hasPlugin('ganforge-dashboard')) await app.register(dashboardPlugin);
  await app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  events = new RunEventStream(redis, { prefix, maxLen: 1000 });
  artifacts = new ArtifactStore(artifactsDir);
  browser = await chromium.launch({ executablePath: chromiumPath });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db?.drop();
  await rm(artifactsDir, { recursive: true, force: true });
});

async function submitRun(steps: number): Promise<string> {
  const response = await fetch(`${baseUrl}/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'dcgan', dataset: 'mnist', seed: 3, steps, logEvery: 1 }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** Loss values of a step: distinct per step, so a point drawn twice would show. */
function lossesAt(step: number) {
  return { 'loss/d': 1.5 - step / 10, 'loss/g': 0.5 + step / 10, 'd/real': 0.6, 'd/fake': 0.4 };
}

async function markRunning(runId: string): Promise<RunEvent> {
  await db.prisma.run.update({
    where: { id: runId },
    data: { status: 'running', backend: 'wasm', startedAt: new Date() },
  });
  return events.publish({ kind: 'status', runId, step: 0, status: 'running', backend: 'wasm' });
}

async function logScalars(runId: string, step: number): Promise<RunEvent> {
  const values = { ...lossesAt(step), 'perf/steps_per_second': 12.5 };
  await db.prisma.scalar.createMany({
    data: Object.entries(values).map(([name, value]) => ({ runId, step, name, value })),
  });
  await db.prisma.run.update({ where: { id: runId }, data: { step } });
  return events.publish({ kind: 'scalars', runId, step, values });
}

/** A grey 8x8 PNG whose shade depends on the step, stored and announced as the worker does. */
async function writeSample(runId: string, step: number): Promise<RunEvent> {
  const png = new PNG({ width: 8, height: 8 });
  png.data.fill(step * 20);
  const stored = await artifacts.put(sampleArtifactPath(runId, step), PNG.sync.write(png));
  await db.prisma.sample.create({
    data: { runId, step, path: stored.path, width: 8, height: 8 },
  });
  const url = sampleUrl(runId, step);
  return events.publish({ kind: 'sample', runId, step, url, width: 8, height: 8 });
}

async function finishRun(runId: string, step: number): Promise<RunEvent> {
  await db.prisma.run.update({
    where: { id: runId },
    data: { status: 'completed', step, finishedAt: new Date() },
  });
  return events.publish({ kind: 'status', runId, step, status: 'completed' });
}

/** Scripts that threw in the pages opened so far; every test expects none. */
const pageErrors: Error[] = [];

async function openPage(hash: string): Promise<{ page: Page; socketUrls: string[] }> {
  const page = await browser.newPage();
  const socketUrls: string[] = [];
  page.on('websocket', (socket) => socketUrls.push(socket.url()));
  page.on('pageerror', (error) => pageErrors.push(error));
  await page.goto(`${baseUrl}/${hash}`);
  return { page, socketUrls };
}

const text = (page: Page, selector: string) => page.locator(selector).textContent();
const attribute = (page: Page, selector: string, name: string) =>
  page.locator(selector).getAttribute(name);

describe('dashboard', () => {
  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });

  it('serves the page and the chart library from this server', async () => {
    const [html, chart, unlisted] = await Promise.all([
      fetch(`${baseUrl}/`),
      fetch(`${baseUrl}/vendor/uplot/uPlot.esm.js`),
      fetch(`${baseUrl}/vendor/uplot/uPlot.cjs.js`),
    ]);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html.text()).toContain('<script type="module" src="/app.js">');
    expect(chart.status).toBe(200);
    expect(chart.headers.get('content-type')).toMatch(/javascript/);
    expect(unlisted.status).toBe(404);
  });

  it('lists runs with their status, model, dataset and progress, linked to their page', async () => {
    const runId = await submitRun(8);
    const { page } = await openPage('');
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.waitFor(shown);

    const cells = await row.locator('td').allTextContents();
    expect(cells).toEqual([
      runId.slice(0, 8),
      'queued',
      'dcgan',
      'mnist',
      'step 0 / 8 (0%)',
      '–',
      expect.any(String),
    ]);

    await row.locator('a').click();
    await page.locator('#run-view').waitFor(shown);
    expect(await attribute(page, '#run-view', 'data-run-id')).toBe(runId);
    expect(await text(page, '#run-status')).toBe('queued');
    await page.close();
  });

  it('follows a run live through a dropped socket until it completes', async () => {
    const runId = await submitRun(8);
    await markRunning(runId);
    for (const step of [1, 2, 3]) await logScalars(runId, step);
    await writeSample(runId, 2);

    const { page, socketUrls } = await openPage(`#/runs/${runId}`);

    // History first: from the REST endpoints, then the stream's replay of the same steps.
    await page.locator('#loss-chart[data-points="3"]').waitFor(shown);
    await page.locator('#connection-state[data-state="live"]').waitFor(shown);
    expect(await text(page, '#run-status')).toBe('running');
    expect(await attribute(page, '#sample-image', 'src')).toBe(sampleUrl(runId, 2));
    expect(await text(page, '#run-step')).toBe('step 3 / 8 (37%)');

    // Live events.
    for (const step of [4, 5, 6]) await logScalars(runId, step);
    const lastBeforeDrop = await writeSample(runId, 6);
    await page.locator('#run-view[data-step="6"]').waitFor(shown);
    await page.locator('#loss-chart[data-points="6"]').waitFor(shown);
    await page.locator(`#sample-image[src="${sampleUrl(runId, 6)}"]`).waitFor(shown);
    expect(await text(page, '#run-step')).toBe('step 6 / 8 (75%)');
    expect(await text(page, '#stat-loss-d')).toBe('0.9');
    expect(await text(page, '#sample-caption')).toBe('G(fixed noise) at step 6');
    const loadedWidth = await page
      .locator('#sample-image')
      .evaluate((image: { complete: boolean; naturalWidth: number }) =>
        image.complete ? image.naturalWidth : -1,
      );
    expect(loadedWidth).toBe(8);

    // The server drops every socket; what is published meanwhile must still arrive, once.
    const serverSockets = [...app.websocketServer.clients];
    expect(serverSockets).toHaveLength(1);
    for (const socket of serverSockets) socket.terminate();
    await logScalars(runId, 7);
    await page.locator('#run-view[data-step="7"]').waitFor(shown);
    expect(socketUrls).toHaveLength(2);
    expect(new URL(socketUrls[0]).searchParams.has('after')).toBe(false);
    expect(new URL(socketUrls[1]).searchParams.get('after')).toBe(lastBeforeDrop.seq);

    await logScalars(runId, 8);
    await writeSample(runId, 8);
    await finishRun(runId, 8);
    await page.locator('#run-status:text-is("completed")').waitFor(shown);
    await page.locator('#connection-state[data-state="finished"]').waitFor(shown);
    await page.locator(`#sample-image[src="${sampleUrl(runId, 8)}"]`).waitFor(shown);
    expect(await attribute(page, '#loss-chart', 'data-points')).toBe('8');
    expect(await text(page, '#run-step')).toBe('step 8 / 8 (100%)');
    expect(
      await page.locator('#run-progress').evaluate((bar: { value: number }) => bar.value),
    ).toBe(8);
    const logLines = await page.locator('#event-log li').allTextContents();
    expect(logLines[0]).toBe('step 8 status completed');
    await page.close();

    // Opened after the end, the page shows the same run and its kept events.
    const { page: later } = await openPage(`#/runs/${runId}`);
    await later.locator('#connection-state[data-state="finished"]').waitFor(shown);
    expect(await text(later, '#run-status')).toBe('completed');
    expect(await attribute(later, '#loss-chart', 'data-points')).toBe('8');
    expect(await attribute(later, '#sample-image', 'src')).toBe(sampleUrl(runId, 8));
    expect(await later.locator('#event-log li').allTextContents()).toEqual([
      'step 8 status completed',
      'step 0 status running',
      'step 0 status queued',
    ]);
    await later.close();
  });

  it("shows a run's evaluations, live and those that finish after the run", async () => {
    const runId = await submitRun(4);
    await markRunning(runId);
    const checkpoint = await db.prisma.checkpoint.create({
      data: { runId, step: 2, path: 'unused', sha256: 'a'.repeat(64), bytes: 1 },
    });
    const protocol = {
      runId,
      checkpointId: checkpoint.id,
      step: 2,
      datasetId: 'mnist',
      extractor: 'classifier',
      generatedSamples: 100,
      realSamples: 100,
      realSplit: 'test',
    };
    const fid = await db.prisma.evaluation.create({ data: { ...protocol, metric: 'fid' } });

    const { page } = await openPage(`#/runs/${runId}`);
    const fidRow = `#evaluations tr[data-evaluation-id="${fid.id}"]`;
    await page.locator(`${fidRow}[data-status="queued"]`).waitFor(shown);

    const facts = { extractorName: 'classifier-mnist', extractorSha256: 'b'.repeat(64) };
    await db.prisma.evaluation.update({
      where: { id: fid.id },
      data: { status: 'completed', value: 12.5, resize: 'none', ...facts },
    });
    await events.publish({
      kind: 'evaluation',
      runId,
      step: 2,
      evaluationId: fid.id,
      metric: 'fid',
      status: 'completed',
      value: 12.5,
      datasetId: 'mnist',
      resize: 'none',
      generatedSamples: 100,
      realSamples: 100,
      realSplit: 'test',
      ...facts,
    });
    await page.locator(`${fidRow}[data-status="completed"]`).waitFor(shown);
    expect(await page.locator(`${fidRow} td`).allTextContents()).toEqual([
      '2',
      'fid',
      '12.5',
      'completed',
      'classifier-mnist',
      '100',
      '100 test',
    ]);
    expect((await page.locator('#event-log li').allTextContents())[0]).toBe('step 2 fid 12.5');

    // Queued when the run ends, scored after its stream has closed: the page reloads it.
    const is = await db.prisma.evaluation.create({ data: { ...protocol, metric: 'is' } });
    await finishRun(runId, 4);
    await page.locator('#connection-state[data-state="finished"]').waitFor(shown);
    await db.prisma.evaluation.update({
      where: { id: is.id },
      data: { status: 'completed', value: 8.25, ...facts },
    });
    await page
      .locator(`#evaluations tr[data-evaluation-id="${is.id}"][data-status="completed"]`)
      .waitFor({ timeout: 15_000 });
    expect(await text(page, `tr[data-evaluation-id="${is.id}"] .evaluation-value`)).toBe('8.25');
    await page.close();
  });

  it('shows text from the server as text, never as markup', async () => {
    const runId = await submitRun(4);
    const message = '<img src=x onerror="document.title=\'owned\'">';
    await events.publish({ kind: 'log', runId, step: 0, level: 'warn', message });

    const { page } = await openPage(`#/runs/${runId}`);
    await page.locator('#event-log li.log-warn').waitFor(shown);
    expect(await text(page, '#event-log li.log-warn')).toBe(`step 0 ${message}`);
    expect(await page.locator('#event-log img').count()).toBe(0);
    expect(await page.title()).not.toBe('owned');
    await page.close();
  });

  it('says so when the run does not exist', async () => {
    const { page } = await openPage('#/runs/00000000-0000-4000-8000-000000000000');
    const alert = page.locator('[role="alert"]');
    await alert.waitFor(shown);
    expect(await alert.textContent()).toBe('No run with id 00000000-0000-4000-8000-000000000000.');
    await page.close();
  });
});
