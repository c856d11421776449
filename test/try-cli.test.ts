import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCli } from '../cli/args';
import { readLedger } from '../lib/ledger';
import { cli } from './run-cli';
import { tempDirFactory } from './temp-dirs';

const tempDir = tempDirFactory('try-cli-');
const FAST = ['--quick', '--no-warm-up', '--backend', 'wasm'];

test('try reads --from, every --set and --seeds; the changes are checked before any work', () => {
  const options = parseCli(['try', '--from', '8', '--set', 'batchSize=512', '--set=schedule.maxLr=0.02', '--seeds', '5', '--workshop'], {});
  assert.equal(options.command, 'try');
  assert.deepEqual(options.steps, [8]);
  assert.deepEqual(options.overrides, ['batchSize=512', 'schedule.maxLr=0.02']);
  assert.equal(options.runs, 5);
  assert.equal(options.mode, 'workshop');
  assert.deepEqual(parseCli(['try', '--from', '8', '--set', 'net=slim', '--seeds', '9', '--quick'], {}).notes, ['quick mode: --seeds 9 capped at 2']);
  const refusals: Array<[string[], RegExp]> = [
    [['try', '--set', 'batchSize=512'], /^try needs --from N, the step whose recipe you change \(steps are 1-9\)$/],
    [['try', '--from', '8'], /^try needs at least one --set FIELD=VALUE \(fields: batchSize, .*\); train --step 8 trains the recipe unchanged$/],
    [['try', '--from', '10', '--set', 'epochs=2'], /^--steps '10' is out of range: steps are 1-9/],
    [['try', '--from', '8', '--set', 'batchsize=512'], /did you mean batchSize\?/],
    [['try', '--from', '1', '--set', 'schedule.maxLr=0.1'], /^schedule.maxLr is not a field of step 1's schedule \('step'\)/],
    [['try', '--from', '8', '--set', 'epochs=1', '--runs', '3'], /^try takes --seeds S \(seeds 1..S\), not --runs; use try --seeds 3$/],
    [['try', '--step', '8', '--set', 'epochs=1'], /^try takes --from N/],
    [['train', '--step', '8', '--set', 'epochs=2'], /^--set is for try \(try --from N --set FIELD=VALUE\), not train$/],
    [['train', '--step', '8', '--seeds', '2'], /^--seeds is for try/],
    [['train', '--step', '8', '--step', '7'], /^--step is given twice$/],
    [['try', '--from', '8', '--set', 'epochs=1', '--validation'], /^try measures the test set like the step's own runs, without a validation set: drop --validation$/],
  ];
  for (const [argv, message] of refusals) assert.throws(() => parseCli(argv, {}), { message }, argv.join(' '));
});

test('a bad --set stops the real CLI with exit 2 and one line, before anything is trained or recorded', async () => {
  const ledger = tempDir();
  const { code, stdout, stderr } = await cli(['try', '--from', '8', '--set', 'batchSize=0', ...FAST], { MNIST_SPEEDRUN_LEDGER: ledger }, undefined, 60_000);
  assert.equal(code, 2, stderr);
  assert.equal(stderr, 'error: batchSize=0 is not allowed: batchSize takes a whole number above 0\n');
  assert.equal(stdout, '');
  assert.equal(existsSync(join(ledger, 'quick')), false);
});

test('try trains the changed recipe over the seeds, records it under tries/ and prints it beside the unchanged recipe', async () => {
  const ledger = tempDir();
  const env = { MNIST_SPEEDRUN_LEDGER: ledger };
  const own = await cli(['train', '--step', '8', ...FAST], env);
  assert.equal(own.code, 0, own.stderr);

  const tried = await cli(['try', '--from', '8', '--set', 'batchSize=512', '--set', 'schedule.maxLr=0.02', '--seeds', '3', ...FAST], env);
  assert.equal(tried.code, 0, tried.stderr);
  assert.match(tried.stderr, /^quick mode: --seeds 3 capped at 2$/m);
  assert.match(tried.stderr, /^step 8 with your change:\n {2}batchSize {7}256 {2}-> {2}512\n {2}schedule\.maxLr {2}0\.01 {2}-> {2}0\.02$/m);
  assert.match(tried.stderr, /try step 08 seed 2 \(2\/2\)/);
  assert.match(tried.stderr, /recorded in .*quick\/tries\/.*step08.*\.json \(a try: never compared as step 8's own recipe\)/);

  // the try sits in quick/tries/, the step's own run alone in quick/
  const tries = await readLedger(join(ledger, 'quick', 'tries'));
  assert.deepEqual(tries.problems, []);
  assert.equal(tries.records.length, 1);
  const record = tries.records[0]!;
  assert.deepEqual(record.overrides, { batchSize: '512', 'schedule.maxLr': '0.02' });
  assert.equal(record.mode, 'quick');
  assert.deepEqual(record.runs.map((r) => r.seed), [1, 2]);
  const steps = await readLedger(join(ledger, 'quick'));
  assert.equal(steps.records.length, 1);
  assert.equal(steps.records[0]!.overrides, undefined);
  assert.notEqual(steps.records[0]!.recipeHash, record.recipeHash);

  const lines = tried.stdout.trim().split('\n');
  assert.match(lines[0]!, /^run +where +time per run +epochs +test accuracy +seeds >= 99% +seconds compare$/);
  assert.match(lines[2]!, /^your change \(batchSize=512 schedule\.maxLr=0\.02\) +wasm, \d+ threads?, on .*, quick mode, .* +2 of 2|^your change \(batchSize=512 schedule\.maxLr=0\.02\) +wasm.* [0-2] of 2 +this run$/);
  assert.match(lines[3]!, /^step 8 unchanged \(your ledger\) +wasm.*quick mode.* [01] of 1 +yes: same machine, backend, threads, engine, data and mode$/);
  assert.equal(lines[4], '(quick mode: the saved reference runs are full runs, so none is set beside this one)');
});
