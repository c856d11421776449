import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCli } from '../cli/args';
import { currentRecipeHashes, formatComparison, ladderFrom, sameSetting } from '../lib/comparison';
import { checkEnvironment } from '../lib/environment';
import { UsageError } from '../lib/errors';
import { appendToLedger, newestComparablePerStep, readLedger, recordingLedgerDir, recordProblem, userLedgerDir } from '../lib/ledger';
import { projectRoot } from '../lib/project-root';
import { RECIPES } from '../lib/recipes';
import { comparisonKey, makeStepRecord, recordMode } from '../lib/results';
import { capRuns, modeNote, modeRecipe, runModeFromEnv } from '../lib/run-mode';
import type { RunResult } from '../lib/train';
import { makeRecord, SERVER } from './ledger-records';
import { tempDirFactory } from './temp-dirs';

const tempDir = tempDirFactory('run-mode-');

test('MNIST_SPEEDRUN_MODE names the mode; MNIST_SPEEDRUN_QUICK=1 is an alias of quick', () => {
  assert.equal(runModeFromEnv({}), 'full');
  assert.equal(runModeFromEnv({ MNIST_SPEEDRUN_MODE: 'workshop' }), 'workshop');
  assert.equal(runModeFromEnv({ MNIST_SPEEDRUN_MODE: ' quick ' }), 'quick');
  assert.equal(runModeFromEnv({ MNIST_SPEEDRUN_MODE: '' }), 'full', 'empty is unset');
  assert.equal(runModeFromEnv({ MNIST_SPEEDRUN_QUICK: 'yes' }), 'quick');
  assert.equal(runModeFromEnv({ MNIST_SPEEDRUN_QUICK: '0', MNIST_SPEEDRUN_MODE: 'workshop' }), 'workshop');
  assert.equal(runModeFromEnv({ MNIST_SPEEDRUN_QUICK: '1', MNIST_SPEEDRUN_MODE: 'quick' }), 'quick', 'both saying quick agree');
});

test('a mode that is not one, and MNIST_SPEEDRUN_QUICK=1 beside another mode, are refused in one line', () => {
  for (const env of [{ MNIST_SPEEDRUN_MODE: 'fast' }, { MNIST_SPEEDRUN_MODE: 'Workshop' }]) {
    assert.throws(() => runModeFromEnv(env), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /^MNIST_SPEEDRUN_MODE='\w+' is not allowed: use full \(.*\), workshop \(.*\) or quick \(.*\), or unset it$/);
      return true;
    });
    assert.throws(() => checkEnvironment(env), { message: /^MNIST_SPEEDRUN_MODE=/ });
  }
  for (const mode of ['full', 'workshop']) {
    const env = { MNIST_SPEEDRUN_QUICK: '1', MNIST_SPEEDRUN_MODE: mode };
    const message = `MNIST_SPEEDRUN_QUICK=1 (quick mode) contradicts MNIST_SPEEDRUN_MODE=${mode}: unset one of them, or set MNIST_SPEEDRUN_MODE=quick`;
    assert.throws(() => runModeFromEnv(env), { message });
    assert.throws(() => checkEnvironment(env), { message });
  }
});

test('the CLI takes --workshop, --quick and --mode; flags naming two modes are refused', () => {
  assert.equal(parseCli(['train', '--step', '3', '--workshop'], {}).mode, 'workshop');
  assert.equal(parseCli(['train', '--step', '3', '--mode', 'quick'], {}).mode, 'quick');
  assert.equal(parseCli(['train', '--step', '3', '--mode=workshop', '--workshop'], {}).mode, 'workshop');
  assert.equal(parseCli(['train', '--step', '3'], { MNIST_SPEEDRUN_MODE: 'workshop' }).mode, 'workshop');
  assert.equal(parseCli(['train', '--step', '3', '--mode', 'full'], { MNIST_SPEEDRUN_QUICK: '1' }).mode, 'full', 'a flag wins over the environment');
  assert.throws(() => parseCli(['train', '--step', '3', '--workshop', '--quick'], {}), /^UsageError: --quick and --workshop ask for different run modes: give one of --mode full, --mode workshop, --mode quick$/);
  assert.throws(() => parseCli(['train', '--step', '3', '--mode', 'slow'], {}), { message: "--mode 'slow' is not a run mode: use full, workshop, quick" });
});

test('workshop mode caps runs at 1 for steps 1-5 and at 5 seeds for steps 6-8, and says so', () => {
  assert.deepEqual([1, 5, 6, 8].map((step) => capRuns('workshop', step, 30)), [1, 1, 5, 5]);
  assert.deepEqual([1, 8].map((step) => capRuns('quick', step, 30)), [2, 2]);
  assert.deepEqual([1, 8].map((step) => capRuns('full', step, 30)), [30, 30]);
  const options = parseCli(['ladder', '--steps', '4-8', '--runs', '10', '--workshop'], {});
  assert.deepEqual(options.notes, ['workshop mode: --runs 10 capped at 1 for steps 4, 5', 'workshop mode: --runs 10 capped at 5 for steps 6, 7, 8']);
  assert.deepEqual(parseCli(['train', '--step', '8', '--runs', '5', '--quick'], {}).notes, ['quick mode: --runs 5 capped at 2']);
  // workshop mode trains on 20,000 images: a validation set must leave some of them to train on
  assert.throws(() => parseCli(['train', '--step', '3', '--workshop', '--validation-size', '20000'], {}), /--validation-size must be a whole number from 1 to 19,999 .*workshop mode trains on 20,000 images/);
});

test('the epoch cap bounds every step, early-stopping steps included; a recipe within it is unchanged', () => {
  for (const recipe of RECIPES) {
    const cut = modeRecipe(recipe, 'workshop');
    assert.equal(cut.epochs, Math.min(recipe.epochs, 2));
    assert.equal(cut.stopAtAccuracy, recipe.stopAtAccuracy, 'early stopping still applies below the cap');
    assert.equal(modeRecipe(recipe, 'full'), recipe);
  }
  assert.equal(modeRecipe(RECIPES[0]!, 'workshop').epochs, 2);
  assert.equal(modeRecipe(RECIPES[1]!, 'workshop').epochs, 2, "step 2 stops at 99% or after the cap's 2 epochs, not 14");
});

test('each mode records into its own ledger folder; reference recording refuses workshop like quick', () => {
  const root = projectRoot();
  assert.equal(recordingLedgerDir('workshop', {}), join(root, 'results', 'yours', 'workshop'));
  assert.equal(userLedgerDir('workshop', { MNIST_SPEEDRUN_LEDGER: '/tmp/mine' }), join('/tmp/mine', 'workshop'));
  assert.equal(userLedgerDir('quick', { MNIST_SPEEDRUN_LEDGER: '/tmp/mine' }), join('/tmp/mine', 'quick'));
  assert.equal(userLedgerDir('full', { MNIST_SPEEDRUN_LEDGER: '/tmp/mine' }), '/tmp/mine');
  assert.throws(
    () => recordingLedgerDir('workshop', { MNIST_SPEEDRUN_REFERENCE: '1' }),
    { message: 'MNIST_SPEEDRUN_REFERENCE=1 records reference results, which are full runs: not with workshop mode; unset MNIST_SPEEDRUN_REFERENCE, or drop --workshop, --mode workshop and MNIST_SPEEDRUN_MODE=workshop' },
  );
});

const run: RunResult = {
  step: 8, slug: '08-final', net: 'final', seed: 1, backend: 'wasm', seconds: 2.5, epochs: 1, testAccuracy: 98.2, testLoss: 0.05,
  validationAccuracy: null, stoppedEarly: false, partial: false, history: [], batchLosses: [], learningRates: [],
};

test('a workshop record says so in mode and quick, reads back, and lives apart from full and quick records', async () => {
  const base = tempDir();
  const env = { MNIST_SPEEDRUN_LEDGER: base };
  const context = { machine: SERVER, source: 'cli' as const, dataHash: 'data-20k', backend: { name: 'wasm', device: 'test CPU', threads: 2 } };
  const workshop = makeStepRecord(RECIPES[7]!, [run], { ...context, mode: 'workshop' });
  assert.equal(workshop.mode, 'workshop');
  assert.equal(workshop.quick, false);
  assert.equal(makeStepRecord(RECIPES[7]!, [run], { ...context, mode: 'quick' }).quick, true);
  await appendToLedger(workshop, recordingLedgerDir('workshop', env));
  await appendToLedger(makeRecord(8, '2026-01-02T00:00:00.000Z'), recordingLedgerDir('full', env));
  assert.deepEqual((await readLedger(recordingLedgerDir('workshop', env))).records, [workshop]);
  assert.deepEqual((await readLedger(recordingLedgerDir('full', env))).records.map(recordMode), ['full']);
  assert.deepEqual((await readLedger(recordingLedgerDir('quick', env))).records, []);
});

test('records made before modes read as before: quick true is quick, else full', () => {
  const oldFull = makeRecord(8, '2026-01-01T00:00:00.000Z');
  const oldQuick = makeRecord(8, '2026-01-01T00:00:00.000Z', { quick: true });
  assert.equal('mode' in oldFull, false);
  assert.equal(recordProblem(oldFull), null);
  assert.equal(recordMode(oldFull), 'full');
  assert.equal(recordMode(oldQuick), 'quick');
  // the same key as a new record of that mode: old and new records stay comparable
  assert.equal(comparisonKey(oldQuick), comparisonKey({ ...oldQuick, mode: 'quick' }));
  assert.equal(comparisonKey(oldFull), comparisonKey({ ...oldFull, mode: 'full' }));
  assert.equal(recordProblem({ ...oldFull, mode: 'fast' }), "mode 'fast' is not one of full, workshop, quick");
  assert.equal(recordProblem({ ...oldFull, mode: 'quick' }), "quick is false but mode is 'quick'");
});

test('a workshop record is never compared with a full or quick one, even with the same recipe and data', () => {
  const hashes = new Map(RECIPES.map((r) => [r.step, `recipe-${r.step}`]));
  const full = makeRecord(7, '2026-01-01T00:00:00.000Z');
  const quick = makeRecord(7, '2026-01-02T00:00:00.000Z', { quick: true, mode: 'quick' });
  const workshop = makeRecord(8, '2026-01-03T00:00:00.000Z', { mode: 'workshop' });
  const workshop7 = makeRecord(7, '2026-01-01T00:00:00.000Z', { mode: 'workshop' });
  assert.notEqual(comparisonKey(workshop), comparisonKey(full));
  assert.notEqual(comparisonKey(workshop), comparisonKey(quick));
  assert.deepEqual(newestComparablePerStep([full, quick, workshop], { like: workshop, recipeHashes: hashes }), [workshop]);
  assert.deepEqual(newestComparablePerStep([full, quick, workshop, workshop7], { like: workshop, recipeHashes: hashes }), [workshop7, workshop]);
  assert.deepEqual(ladderFrom([full, quick, workshop], hashes, workshop).map((r) => r.step), [8]);
  assert.equal(sameSetting(workshop, { ...workshop, mode: 'full' }), false);
  const text = formatComparison({ record: workshop, ledger: [full, workshop], ledgerName: 'y', reference: [full], referenceName: 'r', hashes });
  assert.match(text, /workshop mode: the saved reference runs are full runs, so none is set beside this one/);
  assert.doesNotMatch(text, /^07/m, "the full step 7 is not shown as this run's previous step");
});

test("each mode's recipe hashes are of the recipes it trains", () => {
  const full = currentRecipeHashes('full');
  const workshop = currentRecipeHashes('workshop');
  // steps 1-5 train more than 2 epochs in full mode, steps 6-8 at most 2
  for (const step of [1, 2, 3, 4, 5]) assert.notEqual(workshop.get(step), full.get(step), `step ${step}`);
  for (const step of [6, 7, 8]) assert.equal(workshop.get(step), full.get(step), `step ${step}`);
  assert.deepEqual(workshop, currentRecipeHashes('quick'), 'both cut at 2 epochs');
});

test("the session's data line names the mode, what it trains on and what it is compared with", () => {
  assert.equal(modeNote('workshop'), 'WORKSHOP MODE: a fixed subset, the first 20,000 training images, at most 2 epochs; compared only with other workshop runs');
  assert.equal(modeNote('quick'), 'QUICK MODE: a small subset, at most 2 epochs; compared only with other quick runs');
  assert.equal(modeNote('full'), '');
});
