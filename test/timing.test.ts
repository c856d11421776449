import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, formatMeanStd, formatTiming, mean, median, std, timeRuns } from '../lib/timing';

test('mean and population std, as %%timeit computes them', () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  assert.ok(Math.abs(std([1, 2, 3, 4]) - Math.sqrt(1.25)) < 1e-12);
  assert.equal(std([5]), 0);
  assert.ok(Number.isNaN(mean([])));
});

test('median: the middle value, the mean of the two middle ones for an even count, unsorted input left as it is', () => {
  const values = [5, 1, 4];
  assert.equal(median(values), 4);
  assert.deepEqual(values, [5, 1, 4]);
  assert.equal(median([3, 1, 4, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('durations use the unit %%timeit would', () => {
  assert.equal(formatDuration(172_000), '2 min 52 s');
  assert.equal(formatDuration(57_400), '57.4 s');
  assert.equal(formatDuration(762), '762 ms');
  assert.equal(formatDuration(4.72), '4.72 ms');
  assert.equal(formatDuration(0.038), '38.0 µs');
});

test('rounding never shows 60 s, 60 min or 1000 of a unit: it carries into the next unit', () => {
  assert.equal(formatDuration(119_700), '2 min 0 s');
  assert.equal(formatDuration(119_400), '1 min 59 s');
  assert.equal(formatDuration(59_950), '1 min 0 s');
  assert.equal(formatDuration(59_940), '59.9 s');
  assert.equal(formatDuration(60_000), '1 min 0 s');
  assert.equal(formatDuration(999.6), '1.00 s');
  assert.equal(formatDuration(999.4), '999 ms');
  assert.equal(formatDuration(0.9996), '1.00 ms');
  assert.equal(formatDuration(0.9994), '999 µs');
  assert.equal(formatDuration(3_599_600), '1 h 0 min 0 s');
  assert.equal(formatDuration(3_599_400), '59 min 59 s');
  assert.equal(formatDuration(3_600_000), '1 h 0 min 0 s');
  assert.equal(formatDuration(3_723_000), '1 h 2 min 3 s');
  assert.equal(formatDuration(7_199_500), '2 h 0 min 0 s');
  assert.equal(formatDuration(90_061_000), '25 h 1 min 1 s');
  assert.equal(formatDuration(0), '0.00 µs');
});

test('the timing line reads like %%timeit', () => {
  assert.equal(formatTiming([3000, 3000]), '3.00 s ± 0.00 µs per run (mean ± std. dev. of 2 runs)');
  assert.equal(formatTiming([1000]), '1.00 s (1 run)');
  assert.equal(formatMeanStd([99, 99.1], 2), '99.05 ± 0.05');
});

test('timeRuns leaves the warm-ups out and keeps results in order', async () => {
  const calls: number[] = [];
  const timed = await timeRuns(async (i) => (calls.push(i), i * 10), { runs: 3, warmups: 2 });
  assert.deepEqual(calls, [-1, -2, 0, 1, 2]);
  assert.deepEqual(timed.results, [0, 10, 20]);
  assert.equal(timed.samplesMs.length, 3);
  assert.ok(timed.samplesMs.every((ms) => ms >= 0));
  await assert.rejects(timeRuns(async () => 0, { runs: 0 }), /runs must be a positive integer/);
});
