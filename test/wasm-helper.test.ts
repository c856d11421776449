/**
 * The native kernels' helper thread (lib/wasm/native.ts), in child processes because the wasm
 * backend is process-wide: a helper that dies as it starts neither hangs the run nor changes its
 * numbers, and says so; re-creating the backend ends the old helper instead of leaking it; the
 * splits can be observed and timed (`observeSplits`, for bench/thread-split.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SplitTiming } from '../lib/wasm/native';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

function run(script: string, env: Record<string, string>, preload: string[] = []): { status: number | null; stdout: string; stderr: string; error?: Error } {
  const result = spawnSync(process.execPath, [...preload.flatMap((p) => ['--require', p]), '--import', 'tsx', here(script)], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, error: result.error };
}

const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').at(-1)!) as T;

/** What test/wasm-split-child.ts prints. */
interface SplitChild {
  seen: SplitTiming[];
  afterStop: number;
  products: { lastLayer: number; firstFc: number };
  outputs: { winograd4: { pooled: string; dx: string }; winograd2: { pooled: string; dx: string }; direct: { pooled: string; dx: string }; firstLayer: string };
  chunked: SplitTiming[];
}

describe('native helper thread', () => {
  test('a helper that dies at start: no hang, a message, the same gradients on one thread', () => {
    const killed = run('./wasm-threads-child.ts', { CHILD_THREADS: '2', CHILD_LINGER_MS: '3000' }, [here('./kill-native-helper.cjs')]);
    assert.equal(killed.error, undefined, `child did not finish (hung?): ${String(killed.error)}`);
    assert.equal(killed.status, 0, killed.stderr);
    assert.match(killed.stderr, /helper thread/);
    assert.match(killed.stderr, /helper killed at start/);
    assert.match(killed.stderr, /one thread/);
    const reference = run('./wasm-threads-child.ts', { CHILD_THREADS: '1' });
    assert.equal(reference.status, 0, reference.stderr);
    const a = lastJson<{ grad: number[] }>(killed.stdout).grad;
    const b = lastJson<{ grad: number[] }>(reference.stdout).grad;
    assert.equal(a.length, b.length);
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= 1e-5 * Math.max(1, Math.abs(b[i]!)), `gradient ${i}`));
  });

  test('re-creating the backend (other options, engine reset) ends the old threads', (t) => {
    if (!existsSync('/proc/self/task')) {
      t.skip('counts threads through /proc/self/task (Linux)');
      return;
    }
    const result = run('./wasm-helper-child.ts', {});
    assert.equal(result.error, undefined, `child did not finish: ${String(result.error)}`);
    assert.equal(result.status, 0, result.stderr);
    const { stock, afterSwitch, afterReset } = lastJson<{ stock: number; afterSwitch: number[]; afterReset: number[] }>(result.stdout);
    // every re-creation leaves the process with the threads it had on the single-threaded backend
    for (const count of [...afterSwitch, ...afterReset]) assert.ok(count <= stock, `threads ${count} > ${stock}: ${JSON.stringify({ stock, afterSwitch, afterReset })}`);
  });

  test('observeSplits times each split batch until stopped, and sees none on one thread', () => {
    const threaded = run('./wasm-split-child.ts', { CHILD_THREADS: '2' });
    assert.equal(threaded.error, undefined, `child did not finish: ${String(threaded.error)}`);
    assert.equal(threaded.status, 0, threaded.stderr);
    const { seen, afterStop, products } = lastJson<SplitChild>(threaded.stdout);
    assert.ok(seen.length >= 5, `splits seen: ${seen.length}`);
    assert.equal(afterStop, 0, 'reported after the stop');
    for (const t of seen) {
      assert.equal(t.kernel, 'conv2d');
      // in chunks of one image, taken by whichever thread is free
      assert.equal(t.count, 6);
      assert.ok(Number.isInteger(t.here) && t.here >= 0 && t.here <= 6, JSON.stringify(t));
      for (const ms of [t.hereMs, t.helperMs, t.waitMs]) assert.ok(ms >= 0 && ms < 5_000, JSON.stringify(t));
      // the helper's readings are taken on its own thread: allow a clock difference of 1 ms
      assert.ok(t.pickupMs > -1 && t.pickupMs < 5_000, JSON.stringify(t));
      assert.ok(t.pickupMs + t.helperMs <= t.hereMs + t.waitMs + 1, `the helper finished before the caller saw it done: ${JSON.stringify(t)}`);
    }
    // a product too small to be worth the hand-off (1.3 MFLOP) runs whole on the calling thread; 52 MFLOP is shared
    assert.deepEqual(products, { lastLayer: 0, firstFc: 3 });
    const single = run('./wasm-split-child.ts', { CHILD_THREADS: '1' });
    assert.equal(single.status, 0, single.stderr);
    const alone = lastJson<SplitChild>(single.stdout);
    assert.deepEqual({ ...alone, outputs: undefined }, { seen: [], afterStop: 0, products: { lastLayer: 0, firstFc: 0 }, chunked: [], outputs: undefined });
  });

  test('kernels run in chunks by both threads give the same bits as on one thread', () => {
    const threaded = run('./wasm-split-child.ts', { CHILD_THREADS: '2' });
    assert.equal(threaded.status, 0, threaded.stderr);
    const single = run('./wasm-split-child.ts', { CHILD_THREADS: '1' });
    assert.equal(single.status, 0, single.stderr);
    const [two, one] = [lastJson<SplitChild>(threaded.stdout), lastJson<SplitChild>(single.stdout)];
    assert.deepEqual(two.outputs, one.outputs, 'pooled convolution and its input gradient, bit for bit, by either kernel; the fused first layer');
    const pooled = [two.outputs.winograd4.pooled, two.outputs.winograd2.pooled, two.outputs.direct.pooled];
    assert.equal(new Set(pooled).size, 3, 'both Winograd kernels and the direct one ran (their roundings differ)');
    // the forward convolution (Winograd's two and direct), the pool, the pool's gradient and the input gradient, each in chunks of 2 images
    const kernels = new Set(two.chunked.map((t) => t.kernel));
    for (const kernel of ['winograd4_conv', 'winograd_conv', 'conv2d', 'max_pool_2x2', 'max_pool_grad_2x2', 'input_grad', 'conv_pool_relu']) {
      assert.ok(kernels.has(kernel as SplitTiming['kernel']), `${kernel} ran in chunks: ${[...kernels].join(', ')}`);
    }
    for (const t of two.chunked.filter((c) => c.kernel !== 'filter_grad' && c.kernel !== 'winograd_filter_grad')) {
      assert.equal(t.count, 64);
      assert.ok(t.here % 2 === 0 && t.here >= 0 && t.here <= 64, `whole chunks of 2 on the calling thread: ${JSON.stringify(t)}`);
    }
    // where the helper took part, it took what the calling thread left
    assert.ok(two.chunked.some((t) => t.here < t.count && t.helperMs > 0), `the helper took chunks: ${JSON.stringify(two.chunked)}`);
  });
});
