/**
 * XNNPACK threads on the wasm backend: the thread-count rule, and in a child process (the backend
 * is process-wide) that 2 threads give the same gradients as 1, leave no global behind and let
 * the process exit by itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../lib/errors';
import { MAX_WASM_THREADS, resolveThreadCount, THREADS_ENV_VAR, xnnpackPoolThreads } from '../lib/wasm/threads';

describe('resolveThreadCount', () => {
  test('an explicit count wins over the environment', () => {
    assert.equal(resolveThreadCount(1, { [THREADS_ENV_VAR]: '4' }, 8), 1);
    assert.equal(resolveThreadCount(3, {}, 2), 3);
  });
  test("'auto' takes the environment variable, else every core", () => {
    assert.equal(resolveThreadCount('auto', { [THREADS_ENV_VAR]: '1' }, 8), 1);
    assert.equal(resolveThreadCount(undefined, { [THREADS_ENV_VAR]: '0' }, 8), 1);
    assert.equal(resolveThreadCount(undefined, { [THREADS_ENV_VAR]: 'auto' }, 6), 6);
    assert.equal(resolveThreadCount(undefined, {}, 2), 2);
  });
  test('stays within the pre-spawned worker pool', () => {
    assert.equal(resolveThreadCount(undefined, {}, 64), MAX_WASM_THREADS);
  });
  test('rejects counts that are not whole numbers', () => {
    for (const value of ['two', '-1', '1.5', '1e2', '0x4', 'Auto']) {
      assert.throws(() => resolveThreadCount(undefined, { [THREADS_ENV_VAR]: value }, 2), UsageError, `'${value}'`);
    }
    assert.equal(resolveThreadCount(undefined, { [THREADS_ENV_VAR]: ' 2 ' }, 8), 2);
    // empty is unset, as for every setting (lib/environment.ts): every core
    assert.equal(resolveThreadCount(undefined, { [THREADS_ENV_VAR]: '' }, 3), 3);
    assert.equal(resolveThreadCount(undefined, { [THREADS_ENV_VAR]: ' ' }, 3), 3);
    assert.throws(() => resolveThreadCount(1.5, {}, 2), UsageError);
  });
});

describe('xnnpackPoolThreads', () => {
  test("the tuned kernels' helper thread takes one of the threads from XNNPACK's pool", () => {
    assert.equal(xnnpackPoolThreads(2, true), 1);
    assert.equal(xnnpackPoolThreads(8, true), 7);
  });
  test('one thread stays one; without the helper (stock, composed kernels) the pool has them all', () => {
    assert.equal(xnnpackPoolThreads(1, true), 1);
    assert.equal(xnnpackPoolThreads(1, false), 1);
    assert.equal(xnnpackPoolThreads(2, false), 2);
    assert.equal(xnnpackPoolThreads(8, false), 8);
  });
});

function runChild(threads: number): { threads: number; xnnpackThreads: number; grad: number[]; workerGlobal: string; listenersAdded: number } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./wasm-threads-child.ts', import.meta.url))], {
    env: { ...process.env, CHILD_THREADS: String(threads) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.error, undefined, `child did not finish: ${String(result.error)}`);
  assert.equal(result.status, 0, result.stderr);
  const lastLine = result.stdout.trim().split('\n').at(-1)!;
  return JSON.parse(lastLine);
}

describe('threaded wasm backend', () => {
  test('2 threads: same gradients as 1 thread, nothing left on the process, exits by itself', () => {
    const single = runChild(1);
    const threaded = runChild(2);
    assert.equal(single.threads, 1);
    assert.equal(threaded.threads, 2);
    assert.equal(single.xnnpackThreads, 1);
    assert.equal(threaded.xnnpackThreads, 1, "the helper thread runs beside XNNPACK's pool of one");
    assert.equal(threaded.workerGlobal, 'undefined', 'global Worker left behind');
    assert.equal(threaded.listenersAdded, 0, 'process listeners left behind');
    assert.equal(threaded.grad.length, single.grad.length);
    threaded.grad.forEach((v, i) => assert.ok(Math.abs(v - single.grad[i]!) <= 1e-5 * Math.max(1, Math.abs(single.grad[i]!)), `gradient ${i}`));
  });
});

/** The worker shim lib/wasm/threads.ts writes for Emscripten's pthreads. */
const SHIM_NAME = 'pthread-worker.cjs';

/**
 * Runs the 2-thread child with its own temp folder; returns the pthread worker scripts it loaded.
 * Only the engine's shims: other workers of the process (Node's module-loader thread, esbuild's
 * service worker under tsx on Node 24, whose script is a shared file in node_modules) are not
 * the engine's to vouch for, and the test must never write to them.
 */
function runChildIn(tmp: string): string[] {
  const result = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./wasm-threads-child.ts', import.meta.url))], {
    env: { ...process.env, CHILD_THREADS: '2', TMPDIR: tmp, NODE_DEBUG: 'worker' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.error, undefined, `child did not finish: ${String(result.error)}`);
  assert.equal(result.status, 0, result.stderr);
  // NODE_DEBUG=worker logs "create new worker <script> ..." for every worker the process starts
  const scripts = [...result.stderr.matchAll(/create new worker (\S+\.c?js) /g)].map((m) => m[1]!);
  return [...new Set(scripts)].filter((script) => path.basename(script) === SHIM_NAME);
}

describe('the pthread worker script', () => {
  test('comes from a private folder: a file planted where an earlier run kept it is never run', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-threads-test-'));
    const marker = path.join(tmp, 'planted-code-ran');
    try {
      // only the shim, made under TMPDIR, is this test's to plant into: other workers the child
      // starts (esbuild's, for tsx) run shared files of node_modules, which must never be written
      const first = runChildIn(tmp).filter((script) => script.startsWith(tmp + path.sep));
      assert.ok(first.length > 0, `no pthread worker script was loaded from the temp folder ${tmp}`);
      for (const script of first) {
        assert.notEqual(path.dirname(script), tmp, `${script} sits in the shared temp folder itself`);
        // the shim lives under the child's TMPDIR; anything else is never written by this test
        assert.ok(script.startsWith(tmp + path.sep), `${script} is not under the child's temp folder ${tmp}`);
        // what another user of the machine could leave there: code that runs, then does the real work
        const original = fs.existsSync(script) ? fs.readFileSync(script, 'utf8') : "throw new Error('planted');";
        fs.mkdirSync(path.dirname(script), { recursive: true });
        fs.writeFileSync(script, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n${original}`);
      }
      const second = runChildIn(tmp);
      assert.equal(fs.existsSync(marker), false, `a planted worker script was run: ${first.join(', ')}`);
      for (const script of second) assert.ok(!first.includes(script), `${script} was used by both runs`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('the threaded backend after tf.engine().reset()', () => {
  test('is created again each time, with its threads, and still equals the cpu backend (10 rounds: more than the 8 pooled workers)', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./wasm-reset-child.ts', import.meta.url))], {
      env: { ...process.env, CHILD_THREADS: '2', CHILD_ROUNDS: '10' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(result.error, undefined, `child did not finish: ${String(result.error)}`);
    assert.equal(result.status, 0, result.stderr);
    const rounds = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Array<{ created: boolean; threads: number; error: number | null }>;
    const created = rounds.filter((round) => round.created).length;
    assert.equal(rounds.length, 10, `the backend was created in only ${created} of 10 rounds: ${result.stderr.split('\n').slice(-5).join(' | ')}`);
    for (const [round, { created, threads, error }] of rounds.entries()) {
      assert.ok(created, `round ${round}: tf.setBackend('wasm') failed`);
      // of 2 threads the tuned kernels' helper takes one, XNNPACK's pool the other
      assert.equal(threads, 1, `round ${round}: XNNPACK threads`);
      assert.ok(error !== null && error <= 1e-5, `round ${round}: relative error ${error} vs cpu`);
    }
  });
});
