/** Recipes timed in turns (lib/alternating-timing.ts): the order of the runs, the rounds, the ratios, and the table. */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { useBackend } from '../lib/backend';
import { loadMnist, takeSubset, type MnistArrays } from '../lib/data';
import { timeInTurns, turnsAgainst, turnsSummary } from '../lib/alternating-timing';
import { recipeForStep } from '../lib/recipes';
import { turnsTable } from '../lib/turns-notebook';
import { formatRatioSpread } from '../lib/timing';

const MNIST_DIR = process.env.MNIST_DIR ?? '../shared/data/mnist';
let data: MnistArrays;

before(async () => {
  await useBackend({ name: 'wasm' });
  data = takeSubset(await loadMnist({ dir: MNIST_DIR }), 512, 256);
});

test('runs alternate step by step, round by round, each round on its own seed; ratios are to the first recipe', async () => {
  const order: string[] = [];
  const accuracies: Array<number | null> = [];
  const timing = await timeInTurns([recipeForStep(8), recipeForStep(9)], data, {
    rounds: 2,
    onRun: (round, step, _seconds, accuracy) => {
      order.push(`${round}:${step}`);
      accuracies.push(accuracy);
    },
  });
  assert.deepEqual(order, ['0:8', '0:9', '1:8', '1:9']);
  assert.deepEqual(timing.steps, [8, 9]);
  assert.equal(timing.seconds[0]!.length, 2);
  assert.equal(timing.seconds[1]!.length, 2);
  assert.deepEqual(timing.ratios[0], [1, 1]);
  timing.ratios[1]!.forEach((ratio, r) => assert.equal(ratio, timing.seconds[1]![r]! / timing.seconds[0]![r]!));
  assert.ok(accuracies.every((a) => a !== null && a > 0 && a <= 100));
});

test('an aborted round is left out whole, so every ratio compares like with like', async () => {
  const controller = new AbortController();
  let runs = 0;
  const timing = await timeInTurns([recipeForStep(8), recipeForStep(9)], data, {
    rounds: 3,
    signal: controller.signal,
    onRun: () => {
      runs++;
      if (runs === 3) controller.abort(); // round 2 has started: its step 9 run is cut short
    },
  });
  assert.equal(timing.seconds[0]!.length, 1);
  assert.equal(timing.seconds[1]!.length, 1);
});

test('refuses fewer than two recipes or a round count that is not a whole number >= 1', async () => {
  await assert.rejects(timeInTurns([recipeForStep(8)], data, { rounds: 2 }), /at least two recipes/);
  await assert.rejects(timeInTurns([recipeForStep(8), recipeForStep(9)], data, { rounds: 0 }), /rounds must be a whole number >= 1, got 0/);
});

test('the summary and the table: times, ratios and their spread per step', () => {
  const timing = { steps: [8, 9], seconds: [[10, 12], [6, 6]], ratios: [[1, 1], [0.6, 0.5]] };
  const [eight, nine] = turnsSummary(timing);
  assert.deepEqual([eight!.secondsMean, eight!.ratioMean, nine!.secondsMean, nine!.rounds], [11, 1, 6, 2]);
  assert.ok(Math.abs(nine!.ratioMean - 0.55) < 1e-12);
  assert.ok(Math.abs(nine!.ratioStd - 0.05) < 1e-12); // population std, as lib/timing.ts std
  const table = turnsTable(timing);
  assert.deepEqual(table.columns, ['step', 'time per run (mean ± std)', "time / step 8's (mean ± std)", 'rounds']);
  assert.deepEqual(table.values[0], [8, '11.0 s ± 1.00 s', '1 (reference)', 2]);
  assert.deepEqual((table.values[1] as unknown[]).slice(2), ['0.55 ± 0.05', 2]);
  // a spread under 0.005 gets the decimals that show it, not '± 0.00'
  const close = turnsTable({ steps: [8, 9], seconds: [[10, 10], [5, 5]], ratios: [[1, 1], [0.489, 0.481]] });
  assert.deepEqual((close.values[1] as unknown[]).slice(2), ['0.485 ± 0.004', 2]);
});

test('a ratio is printed with the decimals its spread needs: at least 2, at most 4', () => {
  assert.equal(formatRatioSpread(0.55, 0.05), '0.55 ± 0.05');
  assert.equal(formatRatioSpread(0.485, 0.004), '0.485 ± 0.004');
  assert.equal(formatRatioSpread(0.4852, 0.0004), '0.4852 ± 0.0004');
  assert.equal(formatRatioSpread(0.48521, 0.00001), '0.4852 ± 0.0000');
  assert.equal(formatRatioSpread(1.5, 0.3), '1.50 ± 0.30');
  assert.equal(formatRatioSpread(0.5, 0), '0.50 ± 0.00', 'one round: no spread measured');
});

test("a step's row against the yardstick: only for a step timed in turns against another", () => {
  const timing = { steps: [8, 9], seconds: [[10, 12], [6, 6]], ratios: [[1, 1], [0.6, 0.5]] };
  const nine = turnsAgainst(timing, 9);
  assert.equal(nine?.yardstick.step, 8);
  assert.equal(nine?.yardstick.secondsMean, 11);
  assert.equal(nine?.row.step, 9);
  assert.equal(nine?.row.secondsMean, 6);
  assert.equal(turnsAgainst(timing, 8), null, 'the yardstick is not timed against itself');
  assert.equal(turnsAgainst(timing, 7), null, 'a step not timed');
  assert.equal(turnsAgainst(null, 9), null, 'no turns');
});
