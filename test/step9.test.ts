/**
 * Step 9, ours: a recipe the original does not have. It is step 8 plus its own change only; it has
 * no original numbers, and every place that shows them says so instead of failing; the command
 * line, the run modes, the sweeps and the PyTorch side take it like any other step.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { findTorchPython, pytorchRecipeInput, PYTORCH_REFERENCE_SCRIPT } from '../bench/pytorch-reference';
import { parseCli, USAGE } from '../cli/args';
import { ladderPoint } from '../cli/live-charts';
import { comparisonBlocks, comparisonBlocksText, formatComparison, ladderFrom, originalLines } from '../lib/comparison';
import { recordProblem } from '../lib/ledger';
import { ladderFrameRows, ladderPoints } from '../lib/ladder-view';
import { changeTable } from '../lib/recipe-change';
import { RECIPES, recipeDiff, recipeForStep } from '../lib/recipes';
import { summarize } from '../lib/results';
import { capRuns, runsCap } from '../lib/run-mode';
import { summaryMarkdown } from '../lib/run-summary';
import { parseSweepGrid } from '../lib/sweep';
import { readFileSync } from 'node:fs';
import { ladderMarkdown } from '../tools/readme-tables';
import { makeRecord, SERVER, TEST_HASHES } from './ledger-records';

const step8 = recipeForStep(8);
const step9 = recipeForStep(9);

test('the ladder has nine steps; step 9 is the last, and unknown steps name the range 1-9', () => {
  assert.equal(RECIPES.length, 9);
  assert.deepEqual(RECIPES.map((r) => r.step), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(step9.slug, '09-beyond');
  assert.throws(() => recipeForStep(10), /unknown step 10: steps are 1-9/);
});

test("step 9 is step 8 with only its net, its one-cycle peak and label smoothing changed, and has no original's numbers", () => {
  assert.deepEqual(
    recipeDiff(step8, step9).map(([field]) => field),
    ['net', 'schedule', 'labelSmoothing'],
  );
  // the schedule: step 8's one-cycle with the peak doubled, nothing else
  assert.deepEqual(step9.schedule, { ...step8.schedule, maxLr: 0.02 });
  assert.equal(step8.schedule.kind === 'onecycle' && step8.schedule.maxLr, 0.01);
  const [, before, after] = recipeDiff(step8, step9).find(([field]) => field === 'labelSmoothing')!;
  assert.equal(before, 'absent');
  assert.equal(after, '0.1');
  assert.equal(step9.reference, null);
  // the net: step 8's layers, pool before the ReLU, with 16 maps in each convolution
  assert.deepEqual(step9.net, {
    convs: [
      { out: 16, kernel: 5, pool: 'before-relu', relu: true },
      { out: 16, kernel: 3, pool: 'before-relu', relu: true },
    ],
    dropout2d: 0,
    fc: 256,
    dropout: 0,
  });
  for (const recipe of RECIPES.slice(0, 8)) assert.notEqual(recipe.reference, null, `step ${recipe.step} is the original's`);
});

test('the change table names both nets in the same brief form, the peak and the smoothing', () => {
  const table = changeTable(9);
  assert.deepEqual(table.columns, ['field', 'step 8', 'step 9']);
  assert.deepEqual(table.values, [
    ['net', 'final: c1:24k5q-c2:32k3q-fc:256', 'c1:16k5q-c2:16k3q-fc:256'],
    ['schedule', 'one-cycle peak 0.01, 30% warm-up, cos', 'one-cycle peak 0.02, 30% warm-up, cos'],
    ['labelSmoothing', 'none', '0.1'],
  ]);
  assert.doesNotMatch(JSON.stringify(table), /undefined|object Object/);
});

test('the command line takes step 9: train --step 9, ladder --steps 1-9 (the default), try --from 9', () => {
  assert.deepEqual(parseCli(['train', '--step', '9'], {}).steps, [9]);
  assert.deepEqual(parseCli(['ladder', '--steps', '1-9'], {}).steps, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(parseCli(['ladder'], {}).steps, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(parseCli(['ladder', '--steps', '8-9'], {}).steps, [8, 9]);
  const tried = parseCli(['try', '--from', '9', '--set', 'labelSmoothing=0.2'], {});
  assert.deepEqual(tried.overrides, ['labelSmoothing=0.2']);
  assert.match(USAGE, /--step N {14}step 1-9 \(train\)/);
  assert.match(USAGE, /'1-9' \(default\)/);
  assert.match(USAGE, /5 for steps 6-9\)/);
  assert.doesNotMatch(USAGE, /1-8/);
});

test('run modes treat step 9 as step 8: a seed study, 5 seeds in workshop mode, 2 in quick, as asked (30) in full', () => {
  for (const mode of ['full', 'workshop', 'quick'] as const) assert.equal(runsCap(mode, 9), runsCap(mode, 8), mode);
  assert.equal(capRuns('workshop', 9, 30), 5);
  assert.equal(capRuns('quick', 9, 30), 2);
  assert.equal(capRuns('full', 9, 30), 30);
  const options = parseCli(['ladder', '--steps', '4-9', '--runs', '10', '--workshop'], {});
  assert.deepEqual(options.notes, ['workshop mode: --runs 10 capped at 1 for steps 4, 5', 'workshop mode: --runs 10 capped at 5 for steps 6, 7, 8, 9']);
});

test('a sweep may start from step 9, and the committed workshop grid is one', () => {
  const grid = parseSweepGrid(JSON.parse(readFileSync(new URL('../bench/grids/step9-workshop.json', import.meta.url), 'utf8')), 'step9-workshop.json');
  assert.equal(grid.from, 9);
  assert.equal(grid.seeds, 3);
  assert.deepEqual(grid.variants, [{ labelSmoothing: '0' }, { labelSmoothing: '0.1' }, { labelSmoothing: '0.2' }]);
  assert.throws(() => parseSweepGrid({ from: 10, set: { batchSize: [128] } }, 'g.json'), /from/);
});

test('the recipe JSON handed to PyTorch carries step 9 net as a description and its label smoothing', () => {
  const input = JSON.parse(JSON.stringify(pytorchRecipeInput(step9, { seed: 1, threads: 2 }))) as Record<string, unknown>;
  assert.deepEqual(input['net'], step9.net);
  assert.equal(input['labelSmoothing'], 0.1);
  assert.equal(input['step'], 9);
  // step 8 sends none: PyTorch reads an absent field as 0
  assert.ok(!('labelSmoothing' in JSON.parse(JSON.stringify(pytorchRecipeInput(step8, { seed: 1 })))));
});

test('bench/pytorch_reference.py accepts step 9 recipe: it gets past every recipe check (to torch, or to its answer)', () => {
  const input = JSON.stringify(pytorchRecipeInput(step9, { seed: 1, threads: 1, trainCount: 512, testCount: 256 }));
  // the Python with torch where there is one (then PyTorch itself answers), else any Python 3
  const found = findTorchPython();
  const child = spawnSync(typeof found === 'string' ? found : 'python3', [PYTORCH_REFERENCE_SCRIPT, '-', '--describe'], { input, encoding: 'utf8' });
  if (child.status === 0) {
    const described = JSON.parse(child.stdout) as { step: number; batchesPerEpoch: number };
    assert.equal(described.step, 9);
    assert.equal(described.batchesPerEpoch, 2, '512 images at batch 256');
  } else {
    // without torch the script stops after checking the recipe, naming torch and nothing else
    assert.equal(child.status, 2, child.stderr);
    assert.match(child.stderr.trim(), /^error: .* cannot import torch/);
  }
});

test('a step-9 record has no original numbers; a record of the original steps must have them', () => {
  assert.equal(recordProblem(makeRecord(9, '2026-12-01T00:00:00.000Z')), null);
  assert.equal(makeRecord(9, '2026-12-01T00:00:00.000Z').reference, null);
  assert.match(recordProblem(makeRecord(8, '2026-12-01T00:00:00.000Z', { reference: null })) ?? '', /reference is null, but step 8 is one of the original's/);
});

test("step 9's comparison says the original has none, in text and in the notebook's tables", () => {
  const ledger = [makeRecord(8, '2026-12-01T00:00:00.000Z'), makeRecord(9, '2026-12-01T00:01:00.000Z')];
  const input = { record: ledger[1]!, ledger, ledgerName: 'results/yours', reference: [], referenceName: 'results/reference', hashes: TEST_HASHES };
  const text = formatComparison(input);
  assert.match(text, /original \(GTX 1660 Ti, PyTorch 1\.8\):\n {2}step 8: 762 ms ± 24\.9 ms, 99\.04% \(mean of 30 seeds, std 0\.066\)\n {2}step 9: none: this step is ours$/);
  const blocks = comparisonBlocks(input);
  const original = blocks.find((b) => b.caption.startsWith('original'))!;
  assert.deepEqual(original.table!.values[1], ['9', 'none: this step is ours', '', '', '']);
  // step 8's own row keeps its numbers (the first row, its own yardstick), and step 9 gets no made-up speed-up
  assert.deepEqual(original.table!.values[0], ['8', '762 ms ± 24.9 ms', '99.04%', 'mean of 30 seeds, std 0.066', '1.0x']);
  assert.doesNotMatch(comparisonBlocksText(blocks) + text, /undefined|NaN|null/);
  assert.deepEqual(originalLines([9]), ['  step 9: none: this step is ours']);
});

test("step 9's live summary says the original has no step 9, never a made-up GPU time", () => {
  const ledger = [makeRecord(8, '2026-12-01T00:00:00.000Z'), makeRecord(9, '2026-12-01T00:01:00.000Z')];
  const summary = summaryMarkdown({ record: ledger[1]!, ledger, ledgerName: 'results/yours', reference: [], referenceName: 'results/reference', hashes: TEST_HASHES });
  assert.match(summary, /The original has no step 9: this step is ours, so there is no GPU time to set beside it\./);
  assert.doesNotMatch(summary, /GTX 1660 Ti|undefined|NaN/);
});

test("the ladder's step-9 row: no GPU time or speed-up, in the README table, the notebook's frame and the charts", () => {
  const records = [1, 8, 9].map((step, i) => makeRecord(step, `2026-12-01T00:0${i}:00.000Z`));
  const rows = ladderFrom(records, TEST_HASHES);
  assert.deepEqual(rows.map((r) => r.step), [1, 8, 9]);
  const [first, eighth, ninth] = rows;
  assert.equal(ninth!.originalSeconds, null);
  assert.equal(ninth!.originalSpeedUp, null);
  assert.equal(eighth!.originalSeconds, 0.762);
  assert.equal(eighth!.originalSpeedUp, 172 / 0.762);
  assert.equal(first!.originalSpeedUp, 1);
  // step 9 ran in 1 s here (makeRecord: 10 - step), step 1 in 9 s
  assert.equal(ninth!.speedUp, 9);
  const markdown = ladderMarkdown(rows).split('\n');
  // the last cell of each row names the engine (test/engine-id.test.ts checks what it says)
  assert.match(markdown.at(-1)!, /^\| 9 \| beyond \| 1\.00 s \(1 run\) \| 1 \| 99\.00% \| 9\.0x \| none: this step is ours \| {2}\| `[0-9a-f]{8}` \|$/);
  assert.match(markdown.at(-2)!, /^\| 8 \| final \| 2\.00 s \(1 run\) \| 1 \| 99\.00% \| 4\.5x \| 762 ms \| 226x \| `[0-9a-f]{8}` \|$/);
  const frame = ladderFrameRows(rows);
  assert.equal(frame[2]!['GPU seconds'], 'none: this step is ours');
  assert.equal(frame[2]!['GPU speed-up'], '');
  assert.equal(frame[1]!['GPU speed-up'], 225.7);
  const points = ladderPoints(rows);
  assert.ok(!('referenceSeconds' in points[2]!), 'no GPU point for step 9');
  assert.equal(points[1]!.referenceSeconds, 0.762);
  assert.ok(!('referenceSeconds' in ladderPoint(step9, summarize(records[2]!))));
  assert.equal(ladderPoint(step8, summarize(records[1]!)).referenceSeconds, 0.762);
});

test('a ladder with no step 9 record has no ninth row', () => {
  const rows = ladderFrom([1, 8].map((step, i) => makeRecord(step, `2026-12-01T00:0${i}:00.000Z`, { machine: SERVER })), TEST_HASHES);
  assert.deepEqual(rows.map((r) => r.step), [1, 8]);
  assert.doesNotMatch(ladderMarkdown(rows), /\| 9 \|/);
});
