/**
 * XNNPACK threads on the wasm backend: the thread-count rule, and in a child process (the backend
 * is process-wide) that 2 threads give the same gradients as 1, leave no global behind and let
 * the process exit by itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAX_WASM_THREADS, resolveThreadCount, THREADS_ENV_VAR, WasmThreadsError } from '../lib/wasm/threads';

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
    assert.throws(() => resolveThreadCount(undefined, { [THREADS_ENV_VAR]: 'two' }, 2), WasmThreadsError);
    assert.throws(() => resolveThreadCount(1.5, {}, 2), WasmThreadsError);
  });
});

function runChild(threads: number): { threads: number; grad: number[]; workerGlobal: string; listenersAdded: number } {
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
    assert.equal(threaded.workerGlobal, 'undefined', 'global Worker left behind');
    assert.equal(threaded.listenersAdded, 0, 'process listeners left behind');
    assert.equal(threaded.grad.length, single.grad.length);
    threaded.grad.forEach((v, i) => assert.ok(Math.abs(v - single.grad[i]!) <= 1e-5 * Math.max(1, Math.abs(single.grad[i]!)), `gradient ${i}`));
  });
});
