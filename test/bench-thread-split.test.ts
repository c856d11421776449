/** bench/thread-split.ts sums the observed splits per kernel, as means per call and totals per step. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summariseSplits } from '../bench/thread-split';
import type { SplitTiming } from '../lib/wasm/native';

const split = (kernel: SplitTiming['kernel'], hereMs: number, pickupMs: number, helperMs: number, waitMs: number): SplitTiming =>
  ({ kernel, count: 256, here: 128, hereMs, pickupMs, helperMs, waitMs });

test('per kernel: calls per step and means per call, the kernel with the most waiting first', () => {
  const timings = [
    split('conv2d', 2, 0.1, 2, 0.2),
    split('matmul', 0.5, 0.1, 0.6, 0.3),
    split('conv2d', 4, 0.3, 4, 0.4),
    split('matmul', 0.5, 0.1, 0.4, 0.1),
    split('matmul', 0.5, 0.2, 0.5, 0.2),
    split('matmul', 0.5, 0.2, 0.5, 0.4),
  ];
  const { rows, hereMsPerStep, waitMsPerStep } = summariseSplits(timings, 2);
  assert.deepEqual(rows.map((r) => r.kernel), ['matmul', 'conv2d'], 'matmul waited 1.0 ms in all, conv2d 0.6');
  const [matmul, conv] = rows as [typeof rows[0], typeof rows[0]];
  assert.equal(matmul.callsPerStep, 2);
  assert.equal(conv.callsPerStep, 1);
  assert.ok(Math.abs(conv.hereMs - 3) < 1e-12 && Math.abs(conv.pickupMs - 0.2) < 1e-12 && Math.abs(conv.helperMs - 3) < 1e-12);
  assert.ok(Math.abs(conv.waitMs - 0.3) < 1e-12);
  assert.ok(Math.abs(matmul.waitMs - 0.25) < 1e-12 && Math.abs(matmul.helperMs - 0.5) < 1e-12);
  assert.ok(Math.abs(hereMsPerStep - 4) < 1e-12, 'own halves: (2 + 4 + 4 x 0.5) / 2 steps');
  assert.ok(Math.abs(waitMsPerStep - 0.8) < 1e-12, 'waits: (0.6 + 1.0) / 2 steps');
});

test('no splits (one thread) sum to nothing; the step count must be a whole number from 1', () => {
  assert.deepEqual(summariseSplits([], 5), { rows: [], hereMsPerStep: 0, waitMsPerStep: 0 });
  for (const steps of [0, -1, 1.5, Number.NaN]) assert.throws(() => summariseSplits([], steps), RangeError);
});
