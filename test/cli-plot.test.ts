/**
 * `--plot` through the real command line: the run's charts (and the ladder) are served by
 * nodeplotlib while it trains and after, drawn by a browser without network, through reloads,
 * until Ctrl-C ends it with 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { chromiumMissing, liveDom, tracesDrawn } from './headless-chromium';

const MNIST_DIR = process.env.MNIST_DIR ?? '../shared/data/mnist';

interface Served {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The DOM of each page load made while the finished run's charts were served. */
  loads: string[];
}

/**
 * Runs the CLI with --plot; once it says the charts stay, loads the page once, then `loads - 1`
 * times at once (each waits up to 20 s for `traces` traces), then sends Ctrl-C.
 */
function servePlots(args: string[], loads: number, traces: number): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args, '--plot'], {
      env: { ...process.env, MNIST_DIR, MNIST_SPEEDRUN_BACKEND: '', BROWSER: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const doms: string[] = [];
    let loading = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
      const stay = /charts stay at (http:\/\/127\.0\.0\.1:\d+\/) until Ctrl-C/.exec(stderr);
      if (stay === null || loading) return;
      loading = true;
      void (async () => {
        try {
          const load = (): Promise<string> => liveDom(stay[1]!, (dom) => tracesDrawn(dom) >= traces);
          doms.push(await load());
          // the first page has gone: a reload, and a second tab open at the same time
          if (loads > 1) doms.push(...(await Promise.all(Array.from({ length: loads - 1 }, load))));
        } catch (error) {
          reject(error);
        }
        child.kill('SIGINT');
      })();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, loads: doms });
    });
  });
}

test('train --plot serves the run\'s accuracy, loss and learning rate charts until Ctrl-C, through a reload and a second tab', { skip: chromiumMissing }, async () => {
  const { code, stdout, stderr, loads } = await servePlots(['train', '--step', '8', '--quick', '--no-record', '--json'], 3, 4);
  assert.equal(code, 0, stderr);
  // nodeplotlib's own messages stay off stdout, which --json keeps for JSON lines
  const lines = stdout.split('\n').filter((line) => line !== '');
  assert.ok(lines.length > 0, stdout);
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
  assert.match(stderr, /^live charts: http:\/\/127\.0\.0\.1:\d+\/$/m);
  assert.equal(loads.length, 3, stderr);
  for (const dom of loads) {
    // test accuracy, test loss and train loss of the one epoch, and the learning rate per batch
    assert.equal(tracesDrawn(dom), 4, dom.slice(0, 2000));
    assert.match(dom, /step 08 run 1\/1 \(seed 1\): test accuracy and loss per epoch/);
    assert.match(dom, /step 08 run 1\/1 \(seed 1\): learning rate per batch/);
    // nodeplotlib's page, with plotly.js from this machine
    assert.match(dom, /<npl-root/);
  }
});

test('ladder --plot adds the ladder chart', { skip: chromiumMissing }, async () => {
  const { code, stderr, loads } = await servePlots(['ladder', '--steps', '8', '--quick', '--no-record'], 1, 7);
  assert.equal(code, 0, stderr);
  const dom = loads[0] ?? '';
  assert.match(dom, /time to 99% per step/);
  // the ladder's three traces (here, the original, accuracy) beside the run's four
  assert.equal(tracesDrawn(dom), 7, dom.slice(0, 2000));
});

test('--plot is refused for backends, which trains nothing', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'backends', '--plot'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 2);
  assert.match(stderr, /^error: --plot is for start, train and ladder/m);
});

test('a port in use (NODEPLOTLIB_PORT) stops --plot before training, with one line naming the variable', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
  try {
    const { port } = busy.address() as AddressInfo;
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'train', '--step', '8', '--quick', '--no-record', '--plot'], {
      env: { ...process.env, MNIST_DIR, MNIST_SPEEDRUN_BACKEND: '', BROWSER: 'none', NODEPLOTLIB_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 1, stderr);
    assert.match(stderr, new RegExp(`^error: nodeplotlib could not start its server \\(listen EADDRINUSE[^\\n]*${port}\\): set NODEPLOTLIB_PORT to a free port, or leave it unset$`, 'm'));
    assert.doesNotMatch(stderr, /^\s+at /m, 'no stack');
    assert.doesNotMatch(stderr, /step 08 run/, 'nothing trained');
  } finally {
    busy.close();
  }
});
