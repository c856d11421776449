import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarisePairs } from '../bench/paired-runs';

test('paired runs: medians, per-seed ratios and accuracy differences, matched by seed whatever the order', () => {
  const direct = [
    { seed: 1, seconds: 10, testAccuracy: 99.0 },
    { seed: 2, seconds: 8, testAccuracy: 98.9 },
    { seed: 3, seconds: 12, testAccuracy: 99.1 },
  ];
  const winograd = [
    { seed: 3, seconds: 9, testAccuracy: 99.2 },
    { seed: 1, seconds: 9, testAccuracy: 98.8 },
    { seed: 2, seconds: 6, testAccuracy: 98.9 },
  ];
  const summary = summarisePairs(direct, winograd);
  assert.equal(summary.seeds, 3);
  assert.deepEqual([summary.seconds.a, summary.seconds.b], [10, 9]);
  // per seed 9/10, 6/8, 9/12: 0.9, 0.75, 0.75
  assert.deepEqual(summary.seconds.ratio, { median: 0.75, min: 0.75, max: 0.9 });
  assert.equal(summary.accuracy.a.reached, 2);
  assert.equal(summary.accuracy.b.reached, 1);
  assert.ok(Math.abs(summary.accuracy.a.mean - 99.0) < 1e-9);
  // population std of 99.0, 98.9, 99.1: sqrt(0.02 / 3)
  assert.ok(Math.abs(summary.accuracy.a.std - Math.sqrt(0.02 / 3)) < 1e-9);
  // differences per seed: -0.2, 0, +0.1
  assert.ok(Math.abs(summary.accuracy.difference.mean - -0.1 / 3) < 1e-9);
});

test('paired runs: other seeds, a repeated seed or no runs are refused', () => {
  const run = (seed: number) => ({ seed, seconds: 1, testAccuracy: 99 });
  assert.throws(() => summarisePairs([run(1), run(2)], [run(1), run(3)]), /same seeds/);
  assert.throws(() => summarisePairs([run(1), run(2)], [run(1), run(1)]), /same seeds/);
  assert.throws(() => summarisePairs([], []), /no runs/);
});
