import assert from 'node:assert/strict';
import { test } from 'node:test';
import { currentRecipeHashes, formatComparison, ladderFrom, newestOfStep } from '../lib/comparison';
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
  assert.match(text, /same machine, backend and threads as your run: the times compare directly/);
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
  assert.equal(recipeHash({ ...final, change: 'another label', slug: 'x', reference: { ...final.reference, seconds: 1 } }), full.get(8));
  assert.notEqual(recipeHash({ ...final, dropLast: true }), full.get(8));
  assert.notEqual(recipeHash({ ...final, optimizer: { ...final.optimizer, eps: 1e-7 } }), full.get(8));
  assert.equal(recipeHash(modeRecipe(final, 'quick')), full.get(8));
});
