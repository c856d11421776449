import assert from 'node:assert/strict';
import { test } from 'node:test';
import { currentRecipeHashes, formatComparison, ladderFrom, newestOfStep } from '../lib/comparison';
import { UsageError } from '../lib/errors';
import { recipeHash } from '../lib/fingerprint';
import { newestComparablePerStep } from '../lib/ledger';
import { applyOverrides, parseOverrideValue } from '../lib/recipe-overrides';
import { recipeForStep } from '../lib/recipes';
import { tryComparison, formatTryTable } from '../lib/your-turn';
import { makeRecord, SERVER } from './ledger-records';

const step8 = recipeForStep(8);
const step1 = recipeForStep(1);

function refused(overrides: Record<string, string> | string[], message: string | RegExp, recipe = step8): void {
  assert.throws(() => applyOverrides(recipe, overrides), (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

test('field=value strings and objects set typed values, nested ones included, and list what changed', () => {
  const { recipe, changed, overrides } = applyOverrides(step8, ['batchSize=512', 'schedule.maxLr=0.02', 'schedule.pctStart=0.25', 'net=slim', 'epochs=3']);
  assert.equal(recipe.batchSize, 512);
  assert.equal(recipe.schedule.kind === 'onecycle' && recipe.schedule.maxLr, 0.02);
  assert.equal(recipe.schedule.kind === 'onecycle' && recipe.schedule.pctStart, 0.25);
  assert.equal(recipe.net, 'slim');
  assert.equal(recipe.epochs, 3);
  // the rest of the nested schedule is kept, and the step's own recipe is not touched
  assert.equal(recipe.schedule.kind === 'onecycle' && recipe.schedule.divFactor, 25);
  assert.equal(step8.batchSize, 256);
  assert.equal(step8.schedule.kind === 'onecycle' && step8.schedule.maxLr, 0.01);
  assert.deepEqual(changed, [
    ['batchSize', '256', '512'],
    ['schedule.maxLr', '0.01', '0.02'],
    ['schedule.pctStart', '0.3', '0.25'],
    ['net', '"final"', '"slim"'],
    ['epochs', '1', '3'],
  ]);
  assert.deepEqual(overrides, { batchSize: '512', 'schedule.maxLr': '0.02', 'schedule.pctStart': '0.25', net: 'slim', epochs: '3' });
  assert.equal(recipe.step, 8);
  assert.match(recipe.change, /^your try of step 8: batchSize 512, schedule.maxLr 0.02/);

  const fromObject = applyOverrides(step1, { 'optimizer.lr': 0.5, stopAtAccuracy: 'none', dropLast: 'true' });
  assert.equal(fromObject.recipe.optimizer.lr, 0.5);
  assert.equal(fromObject.recipe.stopAtAccuracy, null);
  assert.equal(fromObject.recipe.dropLast, true);
  assert.equal(applyOverrides(recipeForStep(2), ['stopAtAccuracy=98.5']).recipe.stopAtAccuracy, 98.5);
  assert.equal(applyOverrides(step1, ['schedule.gamma=0.5', 'schedule.stepSize=2']).recipe.schedule.kind === 'step', true);
});

test('labelSmoothing: set, range-checked, and 0 is the step\'s own recipe (same hash)', () => {
  const { recipe, changed } = applyOverrides(step8, ['labelSmoothing=0.1']);
  assert.equal(recipe.labelSmoothing, 0.1);
  assert.deepEqual(changed, [['labelSmoothing', '0', '0.1']]);
  assert.notEqual(recipeHash(recipe), recipeHash(step8));
  const back = applyOverrides(step8, ['labelSmoothing=0']);
  assert.deepEqual(back.changed, []);
  assert.equal(recipeHash(back.recipe), recipeHash(step8));
  assert.equal('labelSmoothing' in back.recipe, false);
  assert.throws(() => applyOverrides(step8, ['labelSmoothing=1']), /labelSmoothing=1 is not allowed/);
});

test('a value equal to the recipe\'s changes nothing, and says so in changed', () => {
  const { recipe, changed } = applyOverrides(step8, { batchSize: 256 });
  assert.deepEqual(changed, []);
  assert.equal(recipeHash(recipe), recipeHash(step8));
  assert.deepEqual(applyOverrides(step8, {}).changed, []);
});

test('an unknown field is refused with the nearest known one', () => {
  refused(['batchsize=512'], /^'batchsize' is not a recipe field a try can change \(did you mean batchSize\?\): fields are batchSize, epochs, net, /);
  refused(['schedule.maxlr=0.1'], /\(did you mean schedule\.maxLr\?\)/);
  refused(['step=3'], /^'step' is not a recipe field a try can change: fields are /);
  refused(['reference.seconds=1'], /^'reference.seconds' is not a recipe field/);
});

test('each kind of value is typed and range-checked', () => {
  const cases: Array<[string, string]> = [
    ['batchSize=0', 'batchSize=0 is not allowed: batchSize takes a whole number above 0'],
    ['batchSize=1.5', 'batchSize=1.5 is not allowed: batchSize takes a whole number above 0'],
    ['epochs=-2', 'epochs=-2 is not allowed: epochs takes a whole number above 0'],
    ['epochs=two', 'epochs=two is not allowed: epochs takes a whole number above 0'],
    ['schedule.maxLr=0x10', 'schedule.maxLr=0x10 is not allowed: schedule.maxLr takes a finite number above 0'],
    ['schedule.maxLr=Infinity', 'schedule.maxLr=Infinity is not allowed: schedule.maxLr takes a finite number above 0'],
    ['schedule.maxLr=-0.1', 'schedule.maxLr=-0.1 is not allowed: schedule.maxLr takes a finite number above 0'],
    ['schedule.pctStart=1', 'schedule.pctStart=1 is not allowed: schedule.pctStart takes a number from 0 up to (not including) 1'],
    ['net=tiny', 'net=tiny is not allowed: net takes one of baseline, pooled, slim, final'],
    ['dataPath=disk', 'dataPath=disk is not allowed: dataPath takes one of per-sample, device'],
    ['shuffle=always', 'shuffle=always is not allowed: shuffle takes one of every-epoch, once'],
    ['evaluate=never', 'evaluate=never is not allowed: evaluate takes one of every-epoch, end'],
    ['dropLast=yes', 'dropLast=yes is not allowed: dropLast takes true or false'],
    ['stopAtAccuracy=101', "stopAtAccuracy=101 is not allowed: stopAtAccuracy takes a test accuracy in percent above 0 and at most 100, or 'none' (train every epoch)"],
    ['schedule.anneal=exp', 'schedule.anneal=exp is not allowed: schedule.anneal takes one of cos, linear'],
  ];
  for (const [typed, message] of cases) refused([typed], message);
  assert.equal(parseOverrideValue('schedule.maxLr', '2e-2'), 0.02);
  assert.equal(parseOverrideValue('stopAtAccuracy', 'none'), null);
});

test('nested fields only where the recipe\'s optimizer or schedule has them', () => {
  refused(['schedule.maxLr=0.02'], "schedule.maxLr is not a field of step 1's schedule ('step'): it belongs to 'onecycle' only", step1);
  refused(['schedule.gamma=0.5'], "schedule.gamma is not a field of step 8's schedule ('onecycle'): it belongs to 'step' only");
  refused(['optimizer.rho=0.95'], "optimizer.rho is not a field of step 8's optimizer ('adam'): it belongs to 'adadelta' only");
  refused(['optimizer.beta1=0.9'], "optimizer.beta1 is not a field of step 1's optimizer ('adadelta'): it belongs to 'adam' only", step1);
  refused(['optimizer.lr=0.02'], "optimizer.lr does nothing in step 8: its one-cycle schedule sets the learning rate every batch; change schedule.maxLr instead");
});

test('malformed, repeated and untrainable changes are refused', () => {
  refused(['batchSize'], "'batchSize' is not a change: write field=value, such as batchSize=512 or schedule.maxLr=0.02");
  refused(['batchSize='], "'batchSize=' is not a change: write field=value, such as batchSize=512 or schedule.maxLr=0.02");
  refused(['epochs=2', 'epochs=3'], 'epochs is changed twice: give each field once');
  refused({ epochs: ' ' }, 'epochs has no value: write epochs=VALUE');
  // valid alone, not together with the rest of the recipe
  refused(['shuffle=every-epoch'], /^shuffle=every-epoch cannot be trained: recipe 08-final: shuffle must be 'once' on the device data path/);
  refused(['stopAtAccuracy=99'], /^stopAtAccuracy=99 cannot be trained: .*stopping at an accuracy needs evaluate 'every-epoch'/);
  assert.equal(applyOverrides(step8, ['stopAtAccuracy=99', 'evaluate=every-epoch']).recipe.stopAtAccuracy, 99);
});

test('net.* fields change the named net as data, in any order after net=', () => {
  const { recipe, changed } = applyOverrides(step8, ['net.c1.out=16', 'net.c2.out=24', 'net.c1.kernel=3', 'net.fc=128', 'net.c1.pool=after-relu', 'net.dropout=0.25']);
  assert.deepEqual(recipe.net, {
    convs: [
      { out: 16, kernel: 3, pool: 'after-relu', relu: true },
      { out: 24, kernel: 3, pool: 'before-relu', relu: true },
    ],
    dropout2d: 0,
    fc: 128,
    dropout: 0.25,
  });
  assert.deepEqual(changed, [
    ['net.c1.out', '24', '16'],
    ['net.c2.out', '32', '24'],
    ['net.c1.kernel', '5', '3'],
    ['net.fc', '256', '128'],
    ['net.c1.pool', '"before-relu"', '"after-relu"'],
    ['net.dropout', '0', '0.25'],
  ]);
  assert.notEqual(recipeHash(recipe), recipeHash(step8));
  assert.equal(step8.net, 'final');
  // net= names the net the other fields change, typed before or after them
  const baselineNarrow = applyOverrides(step8, ['net.c2.out=48', 'net=baseline']).recipe.net;
  assert.deepEqual(baselineNarrow, {
    convs: [
      { out: 32, kernel: 3, pool: 'none', relu: true },
      { out: 48, kernel: 3, pool: 'after-relu', relu: false },
    ],
    dropout2d: 0.25,
    fc: 128,
    dropout: 0.5,
  });
  assert.equal(applyOverrides(step8, ['net.c2.relu=true', 'net=baseline', 'net.dropout2d=0']).recipe.net !== 'baseline', true);
});

test('a net changed back to a ladder net is that net by name, with the step\'s recipe hash', () => {
  const same = applyOverrides(step8, ['net.fc=256', 'net.c1.kernel=5']);
  assert.equal(same.recipe.net, 'final');
  assert.deepEqual(same.changed, []);
  assert.equal(recipeHash(same.recipe), recipeHash(step8));
  // pooled without its dropout is slim's layout with pooled's widths: not slim
  const pooledDry = applyOverrides(step8, ['net=pooled', 'net.c1.out=24', 'net.c2.out=32', 'net.dropout=0']);
  assert.equal(pooledDry.recipe.net, 'slim');
});

test('net.* values are checked, and a net that does not fit 28x28 images is refused naming the layer', () => {
  const cases: Array<[string, string]> = [
    ['net.c1.out=0', 'net.c1.out=0 is not allowed: net.c1.out takes a whole number above 0'],
    ['net.c2.kernel=2.5', 'net.c2.kernel=2.5 is not allowed: net.c2.kernel takes a whole number above 0'],
    ['net.fc=-1', 'net.fc=-1 is not allowed: net.fc takes a whole number above 0'],
    ['net.dropout=1', 'net.dropout=1 is not allowed: net.dropout takes a number from 0 up to (not including) 1'],
    ['net.c1.pool=both', 'net.c1.pool=both is not allowed: net.c1.pool takes one of none, after-relu, before-relu'],
    ['net.c1.relu=no', 'net.c1.relu=no is not allowed: net.c1.relu takes true or false'],
  ];
  for (const [typed, message] of cases) refused([typed], message);
  refused(['net.c3.out=16'], "net.c3.out is not a layer of step 8's net (final): it has 2 convolutions, c1, c2");
  refused(['net.c1.kernal=5'], /^'net\.c1\.kernal' is not a recipe field a try can change \(did you mean net\.c1\.kernel\?\): fields are .*net\.c1\.out, net\.c1\.kernel, net\.c1\.pool, net\.c1\.relu, .*net\.fc, net\.dropout$/);
  refused(['net.fcc=64'], /^'net\.fcc' is not a recipe field a try can change \(did you mean net\.fc\?\)/);
  // c1 (k5) leaves 24x24, pooled to 12x12; a 13x13 kernel on it leaves nothing
  refused(['net.c2.kernel=13'], /^net\.c2\.kernel=13 cannot be trained: recipe 08-final: net c2: a 13x13 kernel does not fit the 12x12 map it reads/);
  // 28 - 28 + 1 = 1: a 1x1 map cannot be pooled
  refused(['net.c1.kernel=28'], /^net\.c1\.kernel=28 cannot be trained: recipe 08-final: net c1: its 2x2 pool would shrink the 1x1 map to nothing/);
  // the same kernel without the pool fits, and c2's 3x3 kernel then does not
  refused(['net.c1.kernel=28', 'net.c1.pool=none'], /net c2: a 3x3 kernel does not fit the 1x1 map it reads/);
  // an odd map is pooled with the floor, as PyTorch: 28 - 4 + 1 = 25 -> 12
  assert.equal(typeof applyOverrides(step8, ['net.c1.kernel=4']).recipe.net, 'object');
});

test("a try's record never enters its step's ladder, comparisons or reference row", () => {
  for (const mode of ['full', 'workshop'] as const) {
    const hashes = currentRecipeHashes(mode);
    const own = makeRecord(8, '2026-01-01T00:00:00.000Z', { recipeHash: hashes.get(8)!, mode });
    const changed = applyOverrides(step8, ['batchSize=512']).recipe;
    assert.notEqual(recipeHash(changed), hashes.get(8), 'a change makes another recipe hash');
    const tried = makeRecord(8, '2026-01-02T00:00:00.000Z', { recipeHash: recipeHash(changed), mode, overrides: { batchSize: '512' }, change: changed.change });
    // a "try" whose values are the recipe's own has the step's hash, and is still a try
    const same = makeRecord(8, '2026-01-03T00:00:00.000Z', { recipeHash: hashes.get(8)!, mode, overrides: { batchSize: '256' } });
    const records = [own, tried, same];
    assert.deepEqual(newestComparablePerStep(records, { like: own, recipeHashes: hashes }), [own]);
    assert.deepEqual(ladderFrom(records, hashes).map((r) => r.seconds), [2]);
    assert.equal(newestOfStep(records, 8, hashes), own);
    const text = formatComparison({ record: own, ledger: records, ledgerName: 'y', reference: records, referenceName: 'r', hashes });
    assert.doesNotMatch(text, /your try/);
  }
});

test('the try table sets your change beside your unchanged run and the reference, naming where each ran', () => {
  const hashes = currentRecipeHashes('full');
  const seconds = (s: number, acc: number) => ({ seed: 1, seconds: s, epochs: 1, testAccuracy: acc, validationAccuracy: null, partial: false });
  const tried = makeRecord(8, '2026-02-02T00:00:00.000Z', { recipeHash: 'changed', overrides: { batchSize: '512' }, runs: [seconds(5, 98.9), { ...seconds(7, 99.1), seed: 2 }] });
  const own = makeRecord(8, '2026-02-01T00:00:00.000Z', { recipeHash: hashes.get(8)!, runs: [seconds(8, 99.2)] });
  const saved = makeRecord(8, '2026-01-01T00:00:00.000Z', { recipeHash: hashes.get(8)!, machine: { ...SERVER, cpu: 'Other CPU' }, runs: [seconds(9, 99.0)] });
  const { rows, notes } = tryComparison({ record: tried, ledger: [own, tried], ledgerName: 'yours', reference: [saved], referenceName: 'ref', hashes });
  assert.deepEqual(rows.map((r) => [r.run, r.timePerRun, r.testAccuracy, r.reached99, r.compares]), [
    ['your change (batchSize=512)', '6.00 s ± 1.00 s', '99.00% ± 0.100', '1 of 2', 'this run'],
    ['step 8 unchanged (your ledger)', '8.00 s', '99.20%', '1 of 1', 'yes: same machine, backend, threads, engine, data and mode'],
    ['step 8 unchanged (saved reference)', '9.00 s', '99.00%', '1 of 1', 'no: another machine or setting; compare ratios, not seconds'],
  ]);
  assert.match(rows[0]!.where, /^wasm, 2 threads, on Server CPU, 2 cores, 24 GiB, linux-x64, full mode, 2026-02-02$/);
  assert.match(rows[2]!.where, /on Other CPU/);
  assert.deepEqual(notes, []);
  const text = formatTryTable({ rows, notes });
  assert.match(text.split('\n')[0]!, /^run +where +time per run +epochs +test accuracy +seeds >= 99% +seconds compare$/);

  // workshop mode: no reference row, and a note when your ledger has no run of the unchanged recipe
  const workshop = { ...tried, mode: 'workshop' as const };
  const alone = tryComparison({ record: workshop, ledger: [own], ledgerName: 'yours/workshop', reference: [saved], referenceName: 'ref', hashes: currentRecipeHashes('workshop') });
  assert.equal(alone.rows.length, 1);
  assert.deepEqual(alone.notes, [
    "no run of step 8's unchanged recipe on this machine, backend and data in workshop mode in yours/workshop: run it first to set it beside yours",
    '(workshop mode: the saved reference runs are full runs, so none is set beside this one)',
  ]);
});
