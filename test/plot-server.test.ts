/**
 * The live-chart server and the notebook's interactive fragment, drawn by a real browser with the
 * network unusable: plotly.js must come from this machine, and a reload must find the server up.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { browserCommand } from '../lib/open-browser';
import { epochCurvesPlotly, learningRatePlotly } from '../lib/plot';
import { startPlotServer } from '../lib/plot-server';
import { plotlyHtml } from '../lib/plotly-fragment';
import { chromiumMissing, offlineDom, tracesDrawn } from './headless-chromium';

const CURVES = epochCurvesPlotly(
  [
    { epoch: 1, testAccuracyPct: 98.2, testLoss: 0.061, trainLoss: 0.21 },
    { epoch: 2, testAccuracyPct: 99.1, testLoss: 0.031, trainLoss: 0.05 },
  ],
  { title: 'curves of run A' },
);
const RATES = learningRatePlotly([0.1, 0.4, 1.0, 0.5, 0.01], { title: 'rates of run A' });

test('the server answers the page, the charts as JSON and plotly.js, and nothing else', async () => {
  const server = await startPlotServer({ title: 'a <title>', status: 'running' });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<title>a &lt;title&gt;<\/title>/);
    assert.doesNotMatch(html, /https?:\/\/(?!127\.0\.0\.1)/, 'the page names no other host');
    const library = await fetch(new URL('/plotly.min.js', server.url));
    assert.equal(library.status, 200);
    assert.match(await library.text(), /plotly\.js v2\.35\.2/);
    assert.equal((await fetch(new URL('/elsewhere', server.url))).status, 404);

    const before = (await (await fetch(new URL('/board.json', server.url))).json()) as { version: number; charts: unknown[] };
    assert.deepEqual(before.charts, []);
    server.show('curves', CURVES);
    server.show('curves', CURVES);
    const after = (await (await fetch(new URL('/board.json', server.url))).json()) as { version: number; charts: Array<{ id: string }> };
    assert.ok(after.version > before.version);
    assert.deepEqual(after.charts.map((chart) => chart.id), ['curves'], 'showing an id again replaces its chart');
  } finally {
    await server.close();
  }
});

test('a browser without network draws the charts, and again after a reload and an update', { skip: chromiumMissing }, async () => {
  const server = await startPlotServer({ title: 'live charts', status: 'training' });
  try {
    server.show('curves', CURVES);
    server.show('rates', RATES);
    const first = await offlineDom(server.url);
    assert.match(first, /class="main-svg"/);
    // three curves (test accuracy, test loss, train loss) and the learning rate
    assert.equal(tracesDrawn(first), 4, first.slice(0, 3000));
    assert.match(first, /curves of run A/);
    assert.match(first, /rates of run A/);

    // the first page has gone away; a reload finds the server up and the newer charts
    server.show('curves', epochCurvesPlotly([{ epoch: 1, testAccuracyPct: 97.5, testLoss: 0.08 }], { title: 'curves of run B' }));
    const reloaded = await offlineDom(server.url);
    assert.match(reloaded, /curves of run B/);
    assert.doesNotMatch(reloaded, /curves of run A/);
    assert.equal(tracesDrawn(reloaded), 3);
  } finally {
    await server.close();
  }
});

test('the notebook fragment draws with plotly.js from the kernel, and draws nothing from a CDN offline', { skip: chromiumMissing }, async () => {
  const server = await startPlotServer({ title: 'kernel' });
  const dir = await mkdtemp(join(tmpdir(), 'fragment-'));
  try {
    const local = join(dir, 'local.html');
    await writeFile(local, `<!DOCTYPE html><html><head></head><body>${plotlyHtml(RATES, new URL('/plotly.min.js', server.url).href)}</body></html>`);
    const drawn = await offlineDom(pathToFileURL(local).href);
    assert.equal(tracesDrawn(drawn), 1);
    assert.match(drawn, /rates of run A/);

    // the same fragment pointed at plotly's CDN, as it was: with no network nothing is drawn,
    // which shows that the browser above really had no way out
    const cdn = join(dir, 'cdn.html');
    await writeFile(cdn, `<!DOCTYPE html><html><head></head><body>${plotlyHtml(RATES, 'https://cdn.plot.ly/plotly-2.35.2.min.js')}</body></html>`);
    assert.equal(tracesDrawn(await offlineDom(pathToFileURL(cdn).href)), 0);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the browser opened is BROWSER, else the system opener; BROWSER=none opens nothing', () => {
  const url = 'http://127.0.0.1:5000/';
  assert.equal(browserCommand(url, { BROWSER: 'none' }, 'linux'), null);
  assert.deepEqual(browserCommand(url, { BROWSER: 'firefox' }, 'linux'), ['firefox', url]);
  assert.deepEqual(browserCommand(url, {}, 'linux'), ['xdg-open', url]);
  assert.deepEqual(browserCommand(url, { BROWSER: '' }, 'darwin'), ['open', url]);
  assert.deepEqual(browserCommand(url, {}, 'win32'), ['cmd', '/c', 'start', '""', url]);
});
