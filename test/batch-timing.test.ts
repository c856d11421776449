import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchAssemblyTable } from '../lib/batch-timing';

test("step 04's batch timing is a two-row table: each path's time per epoch and the speed-up", () => {
  const table = batchAssemblyTable({ batchSize: 64, batches: 938, perSampleMs: [700, 870, 1040], deviceMs: [70, 35, 105] });
  assert.equal(table.caption, 'one epoch of 938 batches of 64, nothing trained (3 timed runs each, after a warm-up)');
  assert.deepEqual(table.columns, ['batches cut', 'used by', 'time per epoch', 'speed-up']);
  // by hand: means 870 ms and 70 ms; population std sqrt((170² + 0 + 170²) / 3) = 138.8 ms and 28.6 ms; 870 / 70 = 12.4
  assert.deepEqual(table.values, [
    ['sample by sample', 'steps 1-3', '870 ms ± 139 ms', '1.0x'],
    ['as device slices', 'steps 4-8', '70.0 ms ± 28.6 ms', '12.4x'],
  ]);
  const one = batchAssemblyTable({ batchSize: 128, batches: 469, perSampleMs: [800], deviceMs: [50] });
  assert.equal(one.values[0]![2], '800 ms', 'one run: no spread');
  assert.match(one.caption, /\(1 timed run each/);
});
