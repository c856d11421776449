/**
 * The install step that makes nodeplotlib work offline and through reloads
 * (tools/offline-nodeplotlib.cjs), on copies of the files of nodeplotlib 1.1.2 as published
 * (test/fixtures/nodeplotlib-1.1.2), and the check that refuses to start an unprepared one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Script } from 'node:vm';
import { nodeplotlibSetupProblem } from '../lib/plot-browser';

const require = createRequire(import.meta.url);
const STEP = join(import.meta.dirname, '..', 'tools', 'offline-nodeplotlib.cjs');
const FIXTURES = join(import.meta.dirname, 'fixtures', 'nodeplotlib-1.1.2');
const PLOTLY = require.resolve('plotly.js-dist-min/plotly.min.js');

const step = require(STEP) as {
  makeWebFolderOffline(webDir: string, plotlyFile: string): void;
  offlineGateway(js: string): string;
  offlineEntry(js: string): string;
  offlineProblems(packageDir: string): string[];
};

/** A folder laid out as an installed nodeplotlib 1.1.2 (only the files the step rewrites). */
function nodeplotlibCopy(packageDir: string): { web: string; gateway: string; entry: string } {
  const files = {
    web: join(packageDir, 'src', 'lib', 'server', 'web'),
    gateway: join(packageDir, 'src', 'lib', 'server', 'plots', 'plots.gateway.js'),
    entry: join(packageDir, 'src', 'lib', 'nodeplotlib.js'),
  };
  mkdirSync(files.web, { recursive: true });
  mkdirSync(dirname(files.gateway), { recursive: true });
  copyFileSync(join(FIXTURES, 'index.html'), join(files.web, 'index.html'));
  copyFileSync(join(FIXTURES, 'plots.gateway.js'), files.gateway);
  copyFileSync(join(FIXTURES, 'nodeplotlib.js'), files.entry);
  writeFileSync(join(packageDir, 'package.json'), JSON.stringify({ name: 'nodeplotlib', version: '1.1.2', main: './src/index.js' }));
  return files;
}

function withTempDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'offline-nodeplotlib-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the published page loads plotly.js and fonts from CDNs (what the step is for)', () => {
  const html = readFileSync(join(FIXTURES, 'index.html'), 'utf8');
  assert.match(html, /<script[^>]*src="https:\/\/cdn\.plot\.ly\/plotly-1\.58\.4\.min\.js"/);
  assert.match(html, /url\(https:\/\/fonts\.gstatic\.com\//);
});

test('the web folder gets plotly.js beside the page, and no https:// script, link or font is left; a second run changes nothing', () => {
  withTempDir((web) => {
    copyFileSync(join(FIXTURES, 'index.html'), join(web, 'index.html'));
    step.makeWebFolderOffline(web, PLOTLY);
    const html = readFileSync(join(web, 'index.html'), 'utf8');
    assert.deepEqual(readFileSync(join(web, 'plotly.min.js')), readFileSync(PLOTLY), 'plotly.min.js is the installed plotly.js-dist-min');
    assert.match(html, /<script type="text\/javascript" src="plotly\.min\.js" defer><\/script>/);
    assert.doesNotMatch(html, /<script[^>]*src="https?:/, 'no script from elsewhere');
    assert.doesNotMatch(html, /<link[^>]*href="https?:/, 'no link to elsewhere');
    assert.doesNotMatch(html, /url\(https?:/, 'no font from elsewhere');
    assert.doesNotMatch(html, /@font-face/);
    assert.doesNotMatch(html, /https:\/\//);
    // the page still starts nodeplotlib's own scripts
    for (const script of ['runtime.js', 'polyfills.js', 'main.js']) assert.ok(html.includes(`<script src="${script}" type="module">`), script);

    step.makeWebFolderOffline(web, PLOTLY);
    assert.equal(readFileSync(join(web, 'index.html'), 'utf8'), html, 'idempotent');
  });
});

test('the server no longer shuts down when the last page disconnects, and each page gets every chart', () => {
  const published = readFileSync(join(FIXTURES, 'plots.gateway.js'), 'utf8');
  assert.match(published, /shutdown\$\.next\(null\)/);
  const patched = step.offlineGateway(published);
  assert.doesNotMatch(patched, /shutdown\$/);
  assert.doesNotMatch(patched, /operators_1\.share\)/);
  assert.match(patched, /handleDisconnect\(client\) \{/, 'the disconnect handler is kept (it forgets the client)');
  assert.doesNotThrow(() => new Script(patched), 'still JavaScript');
  assert.equal(step.offlineGateway(patched), patched, 'idempotent');
});

test('the framework logs only errors (stderr) and the server binds to 127.0.0.1', () => {
  const patched = step.offlineEntry(readFileSync(join(FIXTURES, 'nodeplotlib.js'), 'utf8'));
  assert.match(patched, /NestFactory\.create\(server_module_1\.ServerModule, \{ logger: \['error'\] \}\)/);
  assert.match(patched, /app\.listen\(port, '127\.0\.0\.1'\)/);
  assert.doesNotThrow(() => new Script(patched), 'still JavaScript');
  assert.equal(step.offlineEntry(patched), patched, 'idempotent');
});

test('a file of another nodeplotlib is refused, not half rewritten', () => {
  assert.throws(() => step.offlineGateway('module.exports = {};'), /plots\.gateway\.js is not the one of nodeplotlib 1\.1\.2/);
  assert.throws(() => step.offlineEntry('module.exports = {};'), /nodeplotlib\.js is not the one of nodeplotlib 1\.1\.2/);
});

test('npm runs the step as postinstall; without it, live charts refuse to start with one line naming the fix', () => {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.ok(manifest.scripts.postinstall!.split(' && ').includes('node tools/offline-nodeplotlib.cjs'), manifest.scripts.postinstall);

  withTempDir((root) => {
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'mnist-speedrun' }));
    mkdirSync(join(root, 'tools'));
    copyFileSync(STEP, join(root, 'tools', 'offline-nodeplotlib.cjs'));
    const plotlyDir = join(root, 'node_modules', 'plotly.js-dist-min');
    mkdirSync(plotlyDir, { recursive: true });
    writeFileSync(join(plotlyDir, 'package.json'), JSON.stringify({ name: 'plotly.js-dist-min', main: 'plotly.min.js' }));
    copyFileSync(PLOTLY, join(plotlyDir, 'plotly.min.js'));
    const packageDir = join(root, 'node_modules', 'nodeplotlib');
    nodeplotlibCopy(packageDir);

    assert.equal(step.offlineProblems(packageDir).length, 4);
    const problem = nodeplotlibSetupProblem(root);
    assert.ok(problem !== null);
    assert.doesNotMatch(problem, /\n/);
    assert.match(problem, /: run npm rebuild mnist-speedrun \(as a dependency\) or npm ci \(in a checkout\)$/);

    const run = spawnSync(process.execPath, [join(root, 'tools', 'offline-nodeplotlib.cjs')], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(step.offlineProblems(packageDir), []);
    assert.equal(nodeplotlibSetupProblem(root), null);
    const again = spawnSync(process.execPath, [join(root, 'tools', 'offline-nodeplotlib.cjs')], { encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
  });
});

test('the installed nodeplotlib of this checkout was prepared', () => {
  assert.equal(nodeplotlibSetupProblem(), null);
});
