import assert from 'node:assert/strict';
import { test } from 'node:test';
import { comparisonBlocks, comparisonBlocksText, currentRecipeHashes, formatComparison, ladderFrom, newestOfStep } from '../lib/comparison';
import { recipeHash } from '../lib/fingerprint';
import { modeRecipe } from '../lib/run-mode';
import { RECIPES } from '../lib/recipes';
import { LAPTOP, makeRecord, SERVER, TEST_HASHES } from './ledger-records';

const seconds = (s: number) => [{ seed: 1, seconds: s, epochs: 1, testAccuracy: 99.1, validationAccuracy: null, partial: false }];

test('a ladder never mixes a record from another machine into its rows', () => {
  const records = [
    makeRecord(1, '2026-01-01T00:00:00.000Z', { runs: seconds(100) }),
    makeRecord(8, '2026-01-02T00:00:00.000Z', { runs: seconds(10) }),
    // a newer laptop record of step 1 and step 8, and a newer server record with one thread
    makeRecord(1, '2026-01-03T00:00:00.000Z', { machine: LAPTOP, runs: seconds(50) }),
    makeRecord(8, '2026-01-04T00:00:00.000Z', { machine: LAPTOP, runs: seconds(2) }),
    makeRecord(4, '2026-01-05T00:00:00.000Z', { threads: 1, runs: seconds(40) }),
  ];
  const server = ladderFrom(records, TEST_HASHES, makeRecord(8, '2026-02-01T00:00:00.000Z'));
  assert.deepEqual(server.map((r) => [r.step, r.seconds]), [[1, 100], [8, 10]]);
  assert.equal(server[1]!.speedUp, 10);
  assert.ok(server.every((r) => r.where === 'wasm, 2 threads, on Server CPU, 2 cores, 24 GiB, linux-x64'));
  // without an anchor: the newest record of the highest step decides (the laptop's)
  const newest = ladderFrom(records, TEST_HASHES);
  assert.deepEqual(newest.map((r) => [r.step, r.seconds]), [[1, 50], [8, 2]]);
  assert.ok(newest.every((r) => r.where.includes('Laptop CPU')));
});

test('a ladder leaves out records of an older recipe, quick and partial records', () => {
  const records = [
    makeRecord(1, '2026-01-01T00:00:00.000Z', { runs: seconds(100) }),
    makeRecord(5, '2026-01-02T00:00:00.000Z', { recipeHash: 'recipe-5-reshuffled-every-epoch' }),
    makeRecord(6, '2026-01-03T00:00:00.000Z', { partial: true, runs: [...seconds(30), { ...seconds(1)[0]!, partial: true }] }),
    makeRecord(7, '2026-01-04T00:00:00.000Z', { quick: true }),
  ];
  const rows = ladderFrom(records, TEST_HASHES, makeRecord(8, '2026-02-01T00:00:00.000Z'));
  assert.deepEqual(rows.map((r) => r.step), [1]);
});

test('a ladder row counts the seeds that reached 99% and averages finished runs only', () => {
  const runs = [99.2, 98.9, 99.0, 98.7].map((acc, i) => ({ seed: i + 1, seconds: 10 + i, epochs: 1, testAccuracy: acc, validationAccuracy: null, partial: false }));
  runs.push({ seed: 5, seconds: 0.5, epochs: 0, testAccuracy: null as unknown as number, validationAccuracy: null, partial: true });
  const [row] = ladderFrom([makeRecord(8, '2026-01-01T00:00:00.000Z', { runs })], TEST_HASHES);
  assert.equal(row!.runs, 4);
  assert.equal(row!.reached99, 2);
  assert.equal(row!.seconds, 11.5);
  assert.equal(row!.epochs, 1);
});

test('your run and the saved reference run are shown apart, each naming its machine', () => {
  const mine = makeRecord(8, '2026-03-01T00:00:00.000Z', { machine: LAPTOP, threads: 8, runs: seconds(3) });
  const myPrevious = makeRecord(7, '2026-02-28T00:00:00.000Z', { machine: LAPTOP, threads: 8, runs: seconds(6) });
  const reference = [
    makeRecord(7, '2026-01-01T00:00:00.000Z', { runs: seconds(20) }),
    makeRecord(8, '2026-01-01T00:10:00.000Z', { runs: seconds(10) }),
  ];
  const text = formatComparison({ record: mine, ledger: [myPrevious, mine], ledgerName: 'results/yours', reference, referenceName: 'results/reference', hashes: TEST_HASHES });
  const [yours, saved] = text.split('saved reference run');
  assert.match(yours!, /your run: wasm, 8 threads, on Laptop CPU, 8 cores, 16 GiB, darwin-arm64 \(results\/yours\)/);
  assert.match(yours!, /^07 .* 6\.00 s .* 1\.0x$/m);
  assert.match(yours!, /^08 .* 3\.00 s .* 2\.0x$/m);
  assert.match(saved!, /^: wasm, 2 threads, on Server CPU, 2 cores, 24 GiB, linux-x64, 2026-01-01 \(results\/reference\)/);
  assert.match(saved!, /^08 .* 10\.0 s .* 2\.0x$/m);
  assert.match(saved!, /another machine or setting than your run: compare the ratios between steps, not the seconds/);
  assert.match(text, /original \(GTX 1660 Ti, PyTorch 1\.8\):\n  step 7: 1\.74 s/);
});

test('on the reference machine the comparison says the times compare directly', () => {
  const mine = makeRecord(8, '2026-03-01T00:00:00.000Z', { machine: { ...SERVER, loadAverage: 1.7 } });
  const reference = [makeRecord(8, '2026-01-01T00:00:00.000Z')];
  const text = formatComparison({ record: mine, ledger: [mine], ledgerName: 'yours', reference, referenceName: 'reference', hashes: TEST_HASHES });
  assert.match(text, /same machine, backend, threads and engine as your run: the times compare directly/);
});

test('quick runs and reference re-recording are never set beside a saved reference run', () => {
  const quick = makeRecord(8, '2026-03-01T00:00:00.000Z', { quick: true });
  const reference = [makeRecord(8, '2026-01-01T00:00:00.000Z')];
  const quickText = formatComparison({ record: quick, ledger: [quick], ledgerName: 'q', reference, referenceName: 'r', hashes: TEST_HASHES });
  assert.match(quickText, /quick mode: the saved reference runs are full runs/);
  assert.doesNotMatch(quickText, /saved reference run:/);
  const recording = formatComparison({ record: reference[0]!, ledger: reference, ledgerName: 'r', reference: null, referenceName: 'r', hashes: TEST_HASHES });
  assert.match(recording, /this run is recorded as the saved reference run, in r/);
});

test('a workshop run is told that the saved reference runs are full runs, in the blocks the notebooks show', () => {
  const workshop = makeRecord(8, '2026-03-01T00:00:00.000Z', { mode: 'workshop' });
  const reference = [makeRecord(8, '2026-01-01T00:00:00.000Z')];
  const [yours, saved] = comparisonBlocks({ record: workshop, ledger: [workshop], ledgerName: 'w', reference, referenceName: 'r', hashes: TEST_HASHES });
  assert.match(yours!.caption, /, workshop mode \(w\)$/);
  assert.equal(saved!.table, null);
  assert.equal(saved!.note, 'workshop mode: the saved reference runs are full runs, so none is set beside this one');
});

test("the reference run of a step is found only for today's recipe", () => {
  const records = [makeRecord(8, '2026-01-01T00:00:00.000Z', { recipeHash: 'recipe-8-before' })];
  assert.equal(newestOfStep(records, 8, TEST_HASHES), null);
});

test('recipe hashes follow what is trained: quick mode and every recipe field change them, labels do not', () => {
  const full = currentRecipeHashes('full');
  const quick = currentRecipeHashes('quick');
  assert.equal(new Set(full.values()).size, RECIPES.length, 'every step has its own hash');
  // step 8 trains one epoch, which the quick cut (at most 2) leaves as it is; step 1's 14 epochs it cuts
  assert.equal(quick.get(8), full.get(8));
  assert.notEqual(quick.get(1), full.get(1));
  const final = RECIPES[7]!;
  assert.ok(final.reference !== null, 'step 8 has the original numbers');
  assert.equal(recipeHash({ ...final, change: 'another label', slug: 'x', reference: { ...final.reference, seconds: 1 } }), full.get(8));
  assert.equal(recipeHash({ ...final, reference: null }), full.get(8), 'having no original number is a label too');
  assert.notEqual(recipeHash({ ...final, dropLast: true }), full.get(8));
  assert.notEqual(recipeHash({ ...final, optimizer: { ...final.optimizer, eps: 1e-7 } }), full.get(8));
  assert.equal(recipeHash(modeRecipe(final, 'quick')), full.get(8));
});

// ---- the comparison as tables, one per machine -------------------------------------------------

test('the comparison blocks: your run with your previous step, the saved reference on another machine, the original', () => {
  const mine = makeRecord(8, '2026-03-01T00:00:00.000Z', { machine: LAPTOP, threads: 8, runs: seconds(3) });
  const myPrevious = makeRecord(7, '2026-02-28T00:00:00.000Z', { machine: LAPTOP, threads: 8, runs: seconds(6) });
  const reference = [
    makeRecord(7, '2026-01-01T00:00:00.000Z', { runs: seconds(20) }),
    makeRecord(8, '2026-01-01T00:10:00.000Z', { runs: seconds(10) }),
  ];
  const blocks = comparisonBlocks({ record: mine, ledger: [myPrevious, mine], ledgerName: 'results/yours', reference, referenceName: 'results/reference', hashes: TEST_HASHES });
  assert.deepEqual(blocks.map((b) => b.caption), [
    'your run: wasm, 8 threads, on Laptop CPU, 8 cores, 16 GiB, darwin-arm64 (results/yours)',
    'saved reference run: wasm, 2 threads, on Server CPU, 2 cores, 24 GiB, linux-x64, 2026-01-01 (results/reference)',
    'original: GTX 1660 Ti, PyTorch 1.8',
  ]);
  const [yours, saved, original] = blocks;
  // step, change, time, epochs, accuracy, ≥ 99%, speed-up over the first row
  assert.deepEqual(yours!.table!.values.map((row) => [row[0], row[2], row[4], row[5], row[6]]), [
    ['7', '6.00 s', '99.10%', '1 of 1', '1.0x'],
    ['8', '3.00 s', '99.10%', '1 of 1', '2.0x'],
  ]);
  assert.match(yours!.note, /same machine/);
  assert.deepEqual(saved!.table!.values.map((row) => [row[0], row[2], row[6]]), [['7', '20.0 s', '1.0x'], ['8', '10.0 s', '2.0x']]);
  assert.match(saved!.note, /another machine or setting than your run: compare the speed-ups between steps, not the seconds/);
  // the original's step 7 -> 8: 1.74 s -> 0.762 s
  assert.deepEqual(original!.table!.values.map((row) => [row[0], row[1], row[4]]), [['7', '1.74 s ± 18.3 ms', '1.0x'], ['8', '762 ms ± 24.9 ms', '2.3x']]);
  assert.match(original!.note, /another machine/);
});

test('a single run shows its time without a spread, and a missing previous step says which notebook to run', () => {
  const mine = makeRecord(4, '2026-03-01T00:00:00.000Z', { runs: seconds(71.25) });
  const reference = [makeRecord(4, '2026-01-01T00:00:00.000Z', { runs: seconds(60) })];
  const [yours, saved] = comparisonBlocks({ record: mine, ledger: [mine], ledgerName: 'results/yours', reference, referenceName: 'results/reference', hashes: TEST_HASHES });
  assert.equal(yours!.table!.values.length, 1);
  assert.equal(yours!.table!.values[0]![2], '1 min 11 s');
  assert.ok(!yours!.table!.values[0]!.some((cell) => cell.includes('±')), 'no ± for one run');
  assert.equal(yours!.table!.values[0]![6], '', 'no speed-up without a previous step');
  assert.match(yours!.note, /no step 3 on this machine in results\/yours yet: run notebook 03-smaller-net for a speed-up/);
  assert.match(saved!.note, /same machine, backend, threads and engine as your run: the seconds compare directly/);
  const text = comparisonBlocksText(comparisonBlocks({ record: mine, ledger: [mine], ledgerName: 'y', reference: null, referenceName: 'r', hashes: TEST_HASHES }));
  assert.match(text, /this run is recorded as the saved reference run, in r/);
  assert.match(text, /^step +change +time per run/m);
});
