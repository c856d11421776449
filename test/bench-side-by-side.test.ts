/** The bench's side by side in rounds: per-round ratios, their mean and spread, and --rounds. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSideBySide, parseRounds, sideBySideByRuntime, sideBySideRows, type SideBySideRun, type SideBySideTurn } from '../bench/side-by-side';
import type { PytorchResult } from '../bench/pytorch-reference';
import { EXIT_CODES, UsageError } from '../lib/errors';

function run(round: number, step: number, ours: number, torch: number | null, accuracy = 99, epochs: [number, number] = [1, 1]): SideBySideRun {
  const pytorch: PytorchResult | null = torch === null ? null : {
    step, seconds: torch, testAccuracy: 98.5, epochs: epochs[1], batchesPerEpoch: 235, threads: 2, torch: '1.13.0', device: 'cpu', parameters: 1,
  };
  return { round, seed: round, ours: { step, seconds: ours, epochs: epochs[0], testAccuracy: accuracy, node: 'v20', nativeBuild: 'simd', engine: 'wasm: tuned kernels; engine r1' }, pytorch };
}

test('each ratio is taken within a round, then averaged: not the ratio of the mean times', () => {
  // round 1: step 8 10 s vs 20 s (0.5), step 9 4 s vs 10 s (0.4), 9/8 = 0.4
  // round 2: step 8 20 s vs 25 s (0.8), step 9 12 s vs 20 s (0.6), 9/8 = 0.6
  const rows = sideBySideRows([
    [run(1, 8, 10, 20), run(1, 9, 4, 10)],
    [run(2, 8, 20, 25), run(2, 9, 12, 20)],
  ]);
  assert.deepEqual(rows.map((r) => r.step), [8, 9]);
  assert.deepEqual(rows[0]!.ours, { mean: 15, std: 5, n: 2 });
  assert.deepEqual(rows[0]!.pytorch, { mean: 22.5, std: 2.5, n: 2 });
  assert.ok(Math.abs(rows[0]!.ratio!.mean - 0.65) < 1e-12 && Math.abs(rows[0]!.ratio!.std - 0.15) < 1e-12);
  assert.equal(rows[0]!.againstFirst, null, 'the first step is the yardstick');
  assert.ok(Math.abs(rows[1]!.ratio!.mean - 0.5) < 1e-12 && Math.abs(rows[1]!.ratio!.std - 0.1) < 1e-12);
  assert.ok(Math.abs(rows[1]!.againstFirst!.mean - 0.5) < 1e-12 && Math.abs(rows[1]!.againstFirst!.std - 0.1) < 1e-12);
  assert.equal(rows[1]!.runs.length, 2);
});

test('without PyTorch the rows hold ours and the ratio between steps only', () => {
  const rows = sideBySideRows([[run(1, 6, 30, null), run(1, 8, 12, null)]]);
  assert.equal(rows[0]!.pytorch, null);
  assert.equal(rows[0]!.ratio, null);
  assert.deepEqual(rows[1]!.againstFirst, { mean: 0.4, std: 0, n: 1 });
  const table = formatSideBySide(rows);
  assert.match(table, /ours \/ step 6/);
  assert.match(table.split('\n')[3]!, /^\s*8\s+12\.00\s+-\s+-\s+-\s+-\s+-\s+0\.400\s+99\.00%\s+-\s+1$/);
  assert.equal(rows[0]!.worstRatio, null);
  assert.equal(rows[0]!.totalRatio, null);
  assert.equal(rows[0]!.perEpoch, null);
});

test('an early stop that takes another epoch on one side moves the run ratio, not the per-epoch one', () => {
  // round 1: ours 3 epochs in 30 s, PyTorch 2 in 50 s: 0.6 per run, (30 / 3) / (50 / 2) = 0.4 per epoch
  // round 2: ours 2 epochs in 20 s, PyTorch 3 in 75 s: 0.2667 per run, (20 / 2) / (75 / 3) = 0.4 per epoch
  const rows = sideBySideRows([[run(1, 3, 30, 50, 99, [3, 2])], [run(2, 3, 20, 75, 99, [2, 3])]]);
  const [row] = rows;
  assert.ok(Math.abs(row!.worstRatio! - 0.6) < 1e-12);
  assert.ok(Math.abs(row!.ratio!.mean - (0.6 + 20 / 75) / 2) < 1e-12);
  assert.ok(Math.abs(row!.perEpoch!.mean - 0.4) < 1e-12 && row!.perEpoch!.std < 1e-12);
  const line = formatSideBySide(rows).split('\n')[2]!;
  assert.match(line, /\s0\.600\s+0\.400\s+0\.400 ± 0\.000\s/, 'worst round, summed (50 s / 125 s), per epoch');
  assert.match(line, /3,2 \/ 2,3$/);
});

test('where the epochs to 99% vary on both sides, the summed ratio is that of the mean times; the mean of the per-round ratios is pulled up', () => {
  // 10 s an epoch here, 25 s in PyTorch (0.4 per epoch); the epochs drawn: 4/2, 2/2, 2/4
  // per round: 40 / 50 = 0.8, 20 / 50 = 0.4, 20 / 100 = 0.2 (mean 0.4667); summed: 80 s / 200 s = 0.4
  const rows = sideBySideRows([
    [run(1, 3, 40, 50, 99, [4, 2])],
    [run(2, 3, 20, 50, 99, [2, 2])],
    [run(3, 3, 20, 100, 99, [2, 4])],
  ]);
  const [row] = rows;
  assert.ok(Math.abs(row!.ratio!.mean - 1.4 / 3) < 1e-12);
  assert.ok(Math.abs(row!.totalRatio! - 0.4) < 1e-12);
  assert.ok(Math.abs(row!.perEpoch!.mean - 0.4) < 1e-12);
  assert.ok(Math.abs(row!.worstRatio! - 0.8) < 1e-12);
  assert.match(formatSideBySide(rows), /\s0\.467 ± 0\.249\s+0\.800\s+0\.400\s+0\.400 ± 0\.000\s/);
});

test('rounds that ran different steps are refused', () => {
  assert.throws(() => sideBySideRows([[run(1, 8, 10, 20)], [run(2, 9, 4, 10)]]), /round 2 ran steps 9, round 1 ran 8/);
  assert.deepEqual(sideBySideRows([]), []);
});

test('the table shows mean ± std over several rounds, and one value for one round', () => {
  const table = formatSideBySide(sideBySideRows([[run(1, 8, 10, 20, 99)], [run(2, 8, 20, 25, 98)]]));
  const row = table.split('\n')[2]!;
  assert.match(row, /15\.00 ± 5\.00/);
  assert.match(row, /22\.50 ± 2\.50/);
  assert.match(row, /0\.650 ± 0\.150/);
  assert.match(row, /0\.650 ± 0\.150\s+0\.800\s+0\.667\s+0\.650 ± 0\.150\s/, 'the worst round, the summed times (30 s / 45 s), then per epoch (one epoch each: the same ratios)');
  assert.match(row, /98\.50%\s+98\.50%\s+1,1 \/ 1,1$/, 'accuracies are means over the rounds; each round\'s epochs');
  const single = formatSideBySide(sideBySideRows([[run(1, 8, 10, 20)]]));
  assert.doesNotMatch(single, /±/);
});

test('--rounds takes 1 to 30; anything else is a usage error (exit 2)', () => {
  assert.equal(parseRounds('1'), 1);
  assert.equal(parseRounds(' 5 '), 5);
  assert.equal(parseRounds('30'), 30);
  for (const bad of ['0', '31', '-1', '2.5', 'three', '', '1e1']) {
    assert.throws(() => parseRounds(bad), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.exitCode, EXIT_CODES.usage);
      assert.match(error.message, /give a whole number from 1 to 30/);
      return true;
    }, bad);
  }
});

test('ours on two runtimes: a table each, every ratio against the PyTorch run of its own turn', () => {
  const turn = (round: number, step: number, ours: number[], torch: number): SideBySideTurn => {
    const runs = ours.map((seconds, k) => ({ ...run(round, step, seconds, torch).ours, node: k === 0 ? 'v20' : 'v24' }));
    return { round, seed: round, ours: runs, pytorch: run(round, step, 0, torch).pytorch };
  };
  // round 1: PyTorch 20 s, Node 20 10 s (0.5), Node 24 8 s (0.4); round 2: PyTorch 40 s, 16 s (0.4) and 12 s (0.3)
  const [node20, node24] = sideBySideByRuntime([[turn(1, 8, [10, 8], 20)], [turn(2, 8, [16, 12], 40)]], 2);
  assert.deepEqual(node20!.map((row) => row.runs.map((r) => r.ours.node)), [['v20', 'v20']]);
  assert.deepEqual(node24!.map((row) => row.runs.map((r) => r.ours.node)), [['v24', 'v24']]);
  assert.deepEqual(node20![0]!.ours, { mean: 13, std: 3, n: 2 });
  assert.deepEqual(node24![0]!.ours, { mean: 10, std: 2, n: 2 });
  assert.ok(Math.abs(node20![0]!.ratio!.mean - 0.45) < 1e-12 && Math.abs(node20![0]!.ratio!.std - 0.05) < 1e-12);
  assert.ok(Math.abs(node24![0]!.ratio!.mean - 0.35) < 1e-12 && Math.abs(node24![0]!.ratio!.std - 0.05) < 1e-12);
  assert.deepEqual(node24![0]!.pytorch, { mean: 30, std: 10, n: 2 });
  assert.throws(() => sideBySideByRuntime([[turn(1, 8, [10], 20)]], 2), /round 1 holds 1 run\(s\) of ours where 2 runtime\(s\) ran/);
});
