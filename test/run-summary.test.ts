import assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveSummary, speedWords, summaryMarkdown } from '../lib/run-summary';
import { LAPTOP, makeRecord, TEST_HASHES } from './ledger-records';
import { tempDirFactory } from './temp-dirs';
import { appendToLedger } from '../lib/ledger';
import { recipeHash } from '../lib/fingerprint';
import { RECIPES } from '../lib/recipes';

const tempDir = tempDirFactory('run-summary-');

const run = (seed: number, seconds: number, testAccuracy: number, epochs = 1) => ({ seed, seconds, epochs, testAccuracy, validationAccuracy: null, partial: false });

test('the summary says what this run measured: time per run over its runs, accuracy, seeds at 99%', () => {
  const mine = makeRecord(8, '2026-03-01T00:00:00.000Z', { runs: [run(1, 7, 99.1), run(2, 9, 98.9), run(3, 8, 99.0)] });
  const text = summaryMarkdown({ record: mine, ledger: [mine], ledgerName: 'results/yours', reference: [], referenceName: 'results/reference', hashes: TEST_HASHES });
  // by hand: mean 8 s, population std sqrt(2/3) = 0.816 s; accuracy mean 99.00, std 0.0816
  assert.match(text, /^In this run \(wasm, 2 threads, on Server CPU, 2 cores, 24 GiB, linux-x64; full run\), step 8 took \*\*8\.00 s ± 816 ms\*\* per run over 3 runs/);
  assert.match(text, /test accuracy 99\.00% ± 0\.082, 2 of 3 seeds reached 99%/);
  assert.match(text, /No step 7 is recorded on this machine yet \(results\/yours\): run notebook 07-batch-256-slim/);
  assert.match(text, /no saved reference run of step 8/);
  // the original: 1.74 s -> 0.762 s
  assert.match(text, /The original \(GTX 1660 Ti, another machine\) took 762 ms at 99\.04%, 2\.3 times faster than its step 7\./);
});

test('against your previous step on the same machine: how many times faster or slower', () => {
  const previous = makeRecord(3, '2026-02-28T00:00:00.000Z', { runs: [run(1, 56, 99.08, 2)] });
  const mine = makeRecord(4, '2026-03-01T00:00:00.000Z', { runs: [run(1, 64, 99.08, 3), run(2, 78, 99.16, 4)] });
  // a faster step 3 on another machine must not be used
  const elsewhere = makeRecord(3, '2026-02-28T01:00:00.000Z', { machine: LAPTOP, runs: [run(1, 5, 99.1)] });
  const text = summaryMarkdown({ record: mine, ledger: [previous, elsewhere, mine], ledgerName: 'y', reference: [], referenceName: 'r', hashes: TEST_HASHES });
  // 56 s -> 71 s: 71 / 56 = 1.27 times slower
  assert.match(text, /Against your step 3 on the same machine \(56\.0 s per run\): 1\.3 times slower\./);
  assert.match(text, /3\.5 epochs on average/);
  assert.equal(speedWords(10, 5), '2.0 times faster');
  assert.equal(speedWords(10, 10.2), 'about as fast');
});

test('with the two steps timed in turns, the previous-step sentence is theirs, not the records\'', () => {
  const previous = makeRecord(3, '2026-02-28T00:00:00.000Z', { runs: [run(1, 10, 99.08, 2)] });
  const mine = makeRecord(4, '2026-03-01T00:00:00.000Z', { runs: [run(1, 30, 99.08, 3)] });
  const input = { record: mine, ledger: [previous, mine], ledgerName: 'y', reference: [], referenceName: 'r', hashes: TEST_HASHES };
  // rounds 12 s / 6 s and 14 s / 8 s: 13 s against 7 s per run, ratios 0.5 and 0.571
  const turns = { steps: [3, 4], seconds: [[12, 14], [6, 8]], ratios: [[1, 1], [0.5, 8 / 14]] };
  const text = summaryMarkdown(input, RECIPES, turns);
  assert.match(text, /Against step 3 timed in turns with it on this machine \(2 rounds, 13\.0 s against 7\.00 s per run\): 1\.9 times faster, 0\.54x its time\./);
  assert.doesNotMatch(text, /Against your step 3/);
  // turns of other steps leave the records' sentence
  assert.match(summaryMarkdown(input, RECIPES, { steps: [8, 9], seconds: [[1], [1]], ratios: [[1], [1]] }), /Against your step 3 on the same machine \(10\.0 s per run\): 3\.0 times slower\./);
});

test('the saved reference: seconds compare directly on the same machine, only ratios on another', () => {
  const reference = [
    makeRecord(7, '2026-01-01T00:00:00.000Z', { runs: [run(1, 14, 99.1)] }),
    makeRecord(8, '2026-01-01T00:10:00.000Z', { runs: [run(1, 7, 99.0)] }),
  ];
  const here = makeRecord(8, '2026-03-01T00:00:00.000Z', { runs: [run(1, 3.5, 99.0)] });
  const same = summaryMarkdown({ record: here, ledger: [here], ledgerName: 'y', reference, referenceName: 'r', hashes: TEST_HASHES });
  assert.match(same, /The saved reference run \(wasm, 2 threads, on Server CPU.*, 2026-01-01\) took 7\.00 s per run at 99\.00%: the same machine, setting and engine, so the seconds compare directly: this run was 2\.0 times faster\./);
  const laptop = makeRecord(8, '2026-03-01T00:00:00.000Z', { machine: LAPTOP, runs: [run(1, 3.5, 99.0)] });
  const other = summaryMarkdown({ record: laptop, ledger: [laptop], ledgerName: 'y', reference, referenceName: 'r', hashes: TEST_HASHES });
  assert.match(other, /on another machine or setting: its seconds do not compare with yours, its ratios between steps do; there, step 8 was 2\.0 times faster than step 7\./);
  assert.doesNotMatch(other, /this run was/);
  const quick = makeRecord(8, '2026-03-01T00:00:00.000Z', { quick: true });
  assert.match(summaryMarkdown({ record: quick, ledger: [quick], ledgerName: 'y', reference, referenceName: 'r', hashes: TEST_HASHES }), /quick mode: a subset, not comparable with full runs.*Quick mode: the saved reference runs are full runs/);
  const workshop = makeRecord(8, '2026-03-01T00:00:00.000Z', { mode: 'workshop' });
  const workshopText = summaryMarkdown({ record: workshop, ledger: [workshop], ledgerName: 'y', reference, referenceName: 'r', hashes: TEST_HASHES });
  assert.match(workshopText, /workshop mode: a subset, compared only with workshop runs.*Workshop mode: the saved reference runs are full runs/);
  assert.doesNotMatch(workshopText, /seconds compare directly/);
  assert.match(summaryMarkdown({ record: here, ledger: [here], ledgerName: 'y', reference: null, referenceName: 'r', hashes: TEST_HASHES }), /This run is recorded as the saved reference run \(r\)\./);
});

test('liveSummary reads the session ledger it is given', async () => {
  const dir = tempDir();
  // today's recipe hashes, as the session compares with
  const previous = makeRecord(1, '2026-02-28T00:00:00.000Z', { recipeHash: recipeHash(RECIPES[0]!), runs: [run(1, 1600, 99.11, 14)] });
  const mine = makeRecord(2, '2026-03-01T00:00:00.000Z', { recipeHash: recipeHash(RECIPES[1]!), runs: [run(1, 575, 99.07, 5)] });
  await appendToLedger(previous, dir);
  await appendToLedger(mine, dir);
  const text = await liveSummary({ ledgerDir: dir, recordsReference: true, mode: 'full' }, mine);
  // 1600 s -> 575 s: 2.78 times faster; one run: its time alone
  assert.match(text, /step 2 took \*\*9 min 35 s\*\* for its one run, 5 epochs, test accuracy 99\.07% \(at or above 99%\)/);
  assert.match(text, /Against your step 1 on the same machine \(26 min 40 s per run\): 2\.8 times faster\./);
});
