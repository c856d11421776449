/**
 * The kernel's plotly.js server and the notebook's interactive fragment, drawn by a real browser
 * with the network unusable: plotly.js must come from this machine.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { browserCommand } from '../lib/open-browser';
import { learningRatePlotly } from '../lib/plot';
import { startPlotServer } from '../lib/plot-server';
import { plotlyHtml } from '../lib/plotly-fragment';
import { chromiumMissing, offlineDom, tracesDrawn } from './headless-chromium';

const RATES = learningRatePlotly([0.1, 0.4, 1.0, 0.5, 0.01], { title: 'rates of run A' });

test('the server answers plotly.js from node_modules, and nothing else', async () => {
  const server = await startPlotServer();
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const library = await fetch(new URL('/plotly.min.js', server.url));
    assert.equal(library.status, 200);
    assert.match(await library.text(), /plotly\.js v2\.35\.2/);
    assert.equal((await fetch(server.url)).status, 404);
    assert.equal((await fetch(new URL('/elsewhere', server.url))).status, 404);
    assert.equal((await fetch(new URL('/plotly.min.js', server.url), { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
});

test('the notebook fragment draws with plotly.js from the kernel, and draws nothing from a CDN offline', { skip: chromiumMissing }, async () => {
  const server = await startPlotServer();
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
