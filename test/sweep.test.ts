import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { appendToLedger, readLedger } from '../lib/ledger';
import { recipeForStep } from '../lib/recipes';
import { makeStepRecord } from '../lib/results';
import { modeRecipe } from '../lib/run-mode';
import {
  etaSeconds,
  mixedSettingsNote,
  parseSweepGrid,
  planSweep,
  sortSweepRows,
  sweepLedgerDir,
  sweepRows,
  sweepSeeds,
  sweepTableLike,
  sweepValidation,
  sweepVariants,
  variantId,
  type SweepRow,
} from '../lib/sweep';
import { planOf } from '../lib/sweep-run';
import { sweepWhere } from '../lib/sweep-where';
import type { RunResult } from '../lib/train';
import { LAPTOP, SERVER } from './ledger-records';
import { tempDirFactory } from './temp-dirs';

const tempDir = tempDirFactory('sweep-');

test('a "set" grid is the product of its values, first field slowest, each with the "fixed" fields', () => {
  const grid = parseSweepGrid({ from: 8, seeds: 5, set: { batchSize: [256, 512], 'schedule.maxLr': [0.01, 0.02] }, fixed: { net: 'slim' } }, 'g.json');
  assert.equal(grid.from, 8);
  assert.equal(grid.seeds, 5);
  assert.equal(grid.validation, null);
  assert.deepEqual(grid.variants, [
    { net: 'slim', batchSize: '256', 'schedule.maxLr': '0.01' },
    { net: 'slim', batchSize: '256', 'schedule.maxLr': '0.02' },
    { net: 'slim', batchSize: '512', 'schedule.maxLr': '0.01' },
    { net: 'slim', batchSize: '512', 'schedule.maxLr': '0.02' },
  ]);
  const variants = sweepVariants(grid, 'workshop', 'g.json');
  assert.deepEqual(variants.map((v) => v.label), [
    'net=slim batchSize=256 schedule.maxLr=0.01',
    'net=slim batchSize=256 schedule.maxLr=0.02',
    'net=slim batchSize=512 schedule.maxLr=0.01',
    'net=slim batchSize=512 schedule.maxLr=0.02',
  ]);
  assert.equal(variants[3]!.recipe.batchSize, 512);
  assert.equal(variants[3]!.recipe.net, 'slim');
  assert.equal(variants[3]!.recipe.schedule.kind === 'onecycle' && variants[3]!.recipe.schedule.maxLr, 0.02);
});

test('a "variants" grid is its list, in order; validation is the file\'s or the mode\'s default', () => {
  const grid = parseSweepGrid({ from: 8, seeds: 2, validation: 3000, variants: [{ batchSize: 512 }, { net: 'slim', stopAtAccuracy: null }, {}] }, 'g.json');
  assert.deepEqual(grid.variants, [{ batchSize: '512' }, { net: 'slim', stopAtAccuracy: 'none' }, {}]);
  assert.deepEqual(sweepVariants(grid, 'full', 'g.json').map((v) => v.label), ['batchSize=512', 'net=slim stopAtAccuracy=none', '(step 8 unchanged)']);
  assert.equal(sweepValidation(grid, 'workshop', 'g.json'), 3000);
  assert.equal(sweepValidation({ validation: null }, 'full', 'g.json'), 5000);
  assert.equal(sweepValidation({ validation: null }, 'workshop', 'g.json'), 5000);
  assert.equal(sweepValidation({ validation: null }, 'quick', 'g.json'), 512);
  assert.deepEqual(sweepSeeds('workshop', 3), [1, 2, 3]);
  assert.deepEqual(sweepSeeds('quick', 5), [1, 2]);
});

test('a bad grid is refused whole, naming the file, the variant and the field', () => {
  const refusals: Array<[unknown, RegExp]> = [
    [{ from: 8, variants: [{ batchSize: 512 }, { batchSize: 0 }] }, /^g\.json: variant 2 \(batchSize=0\): batchSize=0 is not allowed: batchSize takes a whole number above 0$/],
    [{ from: 8, set: { batchsize: [256] } }, /^g\.json: variant 1 \(batchsize=256\): .*did you mean batchSize\?/],
    [{ from: 1, set: { 'schedule.maxLr': [0.1] } }, /^g\.json: variant 1 \(schedule\.maxLr=0\.1\): schedule\.maxLr is not a field of step 1's schedule/],
    [{ from: 8, set: { batchSize: [256] }, variants: [{}] }, /^g\.json: give either "set" \(a grid of values\) or "variants" \(a list of changes\), not both$/],
    [{ from: 8 }, /^g\.json: give either "set" .*, one of them$/],
    [{ from: 10, set: { batchSize: [256] } }, /^g\.json: "from" must be a whole number from 1 to 9, got 10$/],
    [{ from: 8, seeds: 0, set: { batchSize: [256] } }, /^g\.json: "seeds" must be a whole number from 1 to 1000, got 0$/],
    [{ from: 8, set: { batchSize: [] } }, /^g\.json: "set" field batchSize needs a non-empty list of values/],
    [{ from: 8, set: { batchSize: [256] }, fixed: { batchSize: 512 } }, /^g\.json: batchSize is both in "set" and in "fixed"/],
    [{ from: 8, set: { batchSize: [256] }, seed: 3 }, /^g\.json: unknown key "seed"/],
    [{ from: 8, variants: [{ batchSize: 512 }, { batchSize: '512' }] }, /^g\.json: variant 2 \(batchSize=512\) is the same as variant 1: give each variant once$/],
    [{ from: 8, variants: [{ batchSize: [512] }] }, /^g\.json: batchSize must be a number, text or true\/false, got \[512\]$/],
    [[8], /^g\.json: a sweep grid is a JSON object/],
  ];
  for (const [value, message] of refusals) {
    assert.throws(() => sweepVariants(parseSweepGrid(value, 'g.json'), 'workshop', 'g.json'), { message }, JSON.stringify(value));
  }
  assert.throws(() => sweepValidation({ validation: 2048 }, 'quick', 'g.json'), { message: /^g\.json: "validation": 2048 leaves nothing to train on: quick mode trains on 2,048 images; give fewer$/ });
});

test('variant ids are stable, ignore the order of the fields, and differ with step, overrides, mode and split', () => {
  const recipe = modeRecipe(recipeForStep(8), 'workshop');
  const id = variantId(8, { batchSize: '512', net: 'slim' }, 'workshop', 5000, recipe);
  assert.match(id, /^[0-9a-f]{12}$/);
  assert.equal(variantId(8, { net: 'slim', batchSize: '512' }, 'workshop', 5000, recipe), id);
  const others = [
    variantId(7, { batchSize: '512', net: 'slim' }, 'workshop', 5000, recipe),
    variantId(8, { batchSize: '256', net: 'slim' }, 'workshop', 5000, recipe),
    variantId(8, { batchSize: '512', net: 'slim' }, 'full', 5000, recipe),
    variantId(8, { batchSize: '512', net: 'slim' }, 'workshop', 4000, recipe),
    variantId(8, { batchSize: '512', net: 'slim' }, 'workshop', 5000, { ...recipe, epochs: recipe.epochs + 1 }),
  ];
  assert.equal(new Set([id, ...others]).size, 6);
  // the same grid read twice gives the same ids; the variants of one grid are all distinct
  const grid = { from: 8, seeds: 3, set: { batchSize: [128, 256, 512] } };
  const first = sweepVariants(parseSweepGrid(grid, 'g'), 'workshop', 'g').map((v) => v.id);
  assert.deepEqual(sweepVariants(parseSweepGrid(grid, 'g'), 'workshop', 'g').map((v) => v.id), first);
  assert.equal(new Set(first).size, 3);
});

function result(seed: number, seconds: number, validationAccuracy: number, partial = false): RunResult {
  return {
    step: 8, slug: '08-final', net: 'final', seed, backend: 'cpu', seconds, epochs: 1, testAccuracy: null, testLoss: null,
    validationAccuracy, stoppedEarly: false, partial, history: [], batchLosses: [], learningRates: [],
  };
}

test('a rerun plans only the (variant, seed) pairs not yet recorded; an interrupted run is not counted as recorded', async () => {
  const ledger = tempDir();
  const grid = parseSweepGrid({ from: 8, seeds: 3, set: { batchSize: [256, 512] } }, 'g.json');
  const plan = planOf(grid, { where: 'g.json', name: 'g', mode: 'workshop', modeLedgerDir: ledger });
  assert.equal(plan.dir, sweepLedgerDir(ledger, 'g'));
  assert.equal(plan.dir, join(ledger, 'sweeps', 'g'));
  const [small, large] = plan.variants as [typeof plan.variants[0], typeof plan.variants[0]];
  const record = (variant: typeof small, r: RunResult) =>
    makeStepRecord(variant.recipe, [r], {
      backend: { name: 'cpu', device: 'test' }, machine: SERVER, source: 'cli', mode: 'workshop', dataHash: 'd',
      overrides: variant.overrides, sweep: { name: 'g', variant: variant.id, validation: plan.validation },
    });
  assert.equal(planSweep(plan.variants, plan.seeds, []).pending.length, 6);
  await appendToLedger(record(small, result(1, 2, 99.1)), plan.dir);
  await appendToLedger(record(small, result(3, 2, 99.1)), plan.dir);
  await appendToLedger(record(large, result(2, 1, 98.5)), plan.dir);
  const { records, problems } = await readLedger(plan.dir);
  assert.deepEqual(problems, []);
  assert.equal(records.length, 3);
  // an interrupted run (never written by a sweep, which records finished runs only) still does not count
  const { all, pending } = planSweep(plan.variants, plan.seeds, [...records, record(large, result(1, 1, 98.5, true))]);
  assert.equal(all.length, 6);
  assert.deepEqual(pending.map((r) => [r.variant.label, r.seed]), [['batchSize=256', 2], ['batchSize=512', 1], ['batchSize=512', 3]]);
  // another split (another id) shares nothing with these records
  const other = planOf({ ...grid, validation: 4000 }, { where: 'g.json', name: 'g', mode: 'workshop', modeLedgerDir: ledger });
  assert.equal(planSweep(other.variants, other.seeds, records).pending.length, 6);
});

test('rows summarise each variant\'s recorded runs of the planned seeds on validation accuracy', async () => {
  const grid = parseSweepGrid({ from: 8, seeds: 2, variants: [{ batchSize: 256 }, { batchSize: 512 }, { batchSize: 128 }] }, 'g.json');
  const variants = sweepVariants(grid, 'workshop', 'g.json');
  const tag = (i: number) => ({ name: 'g', variant: variants[i]!.id, validation: 5000 });
  const make = (i: number, r: RunResult) =>
    makeStepRecord(variants[i]!.recipe, [r], { backend: { name: 'cpu', device: 't' }, machine: SERVER, source: 'cli', mode: 'workshop', dataHash: 'd', overrides: variants[i]!.overrides, sweep: tag(i) });
  const records = [make(0, result(1, 2, 99)), make(0, result(2, 4, 99.5)), make(0, result(3, 100, 10)), make(1, result(1, 1, 98))];
  const rows = sweepRows(variants, [1, 2], records);
  // seed 3 is not planned: left out; the spread is the population std (lib/timing.ts)
  assert.deepEqual(rows[0], { variant: 'batchSize=256', id: variants[0]!.id, runs: 2, secondsMean: 3, secondsStd: 1, accuracyMean: 99.25, accuracyStd: 0.25, reached99: 2 });
  assert.equal(rows[1]!.runs, 1);
  assert.equal(rows[1]!.reached99, 0);
  assert.equal(rows[2]!.runs, 0);
});

function row(variant: string, runs: number, secondsMean: number, accuracyMean: number): SweepRow {
  return { variant, id: variant, runs, secondsMean, secondsStd: 0, accuracyMean, accuracyStd: 0, reached99: 0 };
}

test('the table: variants whose mean reaches 99% by time first, then the rest by accuracy (marked), unrun last', () => {
  const rows = [
    row('slow-99.2', 3, 9, 99.2),
    row('fast-98.9', 3, 1, 98.9),
    row('none', 0, Number.NaN, Number.NaN),
    row('fast-99.0', 3, 2, 99.0),
    row('mid-98.95', 3, 5, 98.95),
    row('mid-99.5', 3, 5, 99.5),
  ];
  assert.deepEqual(sortSweepRows(rows).map((r) => r.variant), ['fast-99.0', 'mid-99.5', 'slow-99.2', 'mid-98.95', 'fast-98.9', 'none']);
  const table = sweepTableLike(rows);
  const values = table.values as string[][];
  assert.deepEqual(values.map((v) => v[0]), ['fast-99.0', 'mid-99.5', 'slow-99.2', 'mid-98.95', 'fast-98.9', 'none']);
  assert.deepEqual(values.map((v) => v[5]), ['', '', '', 'below 99%', 'below 99%', 'not run yet']);
  assert.match(values[0]![2]!, /^2\.00 s ± /);
  assert.equal(values[0]![3], '99.00 ± 0.00');
});

test('the ETA is the mean wall time of the finished runs times those left', () => {
  assert.equal(etaSeconds(10, 0, 5), null);
  assert.equal(etaSeconds(30, 3, 6), 60);
});

test('records of one sweep from two machines are named: their times do not compare', () => {
  const variants = sweepVariants(parseSweepGrid({ from: 8, variants: [{ batchSize: 256 }] }, 'g'), 'workshop', 'g');
  const make = (machine: typeof SERVER) =>
    makeStepRecord(variants[0]!.recipe, [result(1, 2, 99)], {
      backend: { name: 'wasm', device: 't', threads: 2 }, machine, source: 'cli', mode: 'workshop', dataHash: 'd',
      overrides: variants[0]!.overrides, sweep: { name: 'g', variant: variants[0]!.id, validation: 5000 },
    });
  assert.equal(mixedSettingsNote(variants, [make(SERVER), make(SERVER)]), null);
  const note = mixedSettingsNote(variants, [make(SERVER), make(LAPTOP)]);
  assert.match(note ?? '', /^the recorded runs come from 2 settings \(wasm.*Server CPU.*; wasm.*Laptop CPU.*\): their times do not compare; give --name NAME to start a separate sweep here$/);
});

test('sweepWhere: the machine, backend and load range of the records, and how many settings they mix', () => {
  const variants = sweepVariants(parseSweepGrid({ from: 8, variants: [{ batchSize: 256 }] }, 'g'), 'workshop', 'g');
  const make = (machine: typeof SERVER, threads: number) =>
    makeStepRecord(variants[0]!.recipe, [result(1, 2, 99)], {
      backend: { name: 'wasm', label: 'WebAssembly (test build)', device: 't', threads }, machine, source: 'cli', mode: 'workshop', dataHash: 'd',
      overrides: variants[0]!.overrides, sweep: { name: 'g', variant: variants[0]!.id, validation: 5000 },
    });
  assert.equal(sweepWhere([]), null);
  const one = make(SERVER, 2);
  const two = make(SERVER, 2);
  two.machine.loadAverage = one.machine.loadAverage + 1.5;
  const where = sweepWhere([one, two])!;
  assert.deepEqual(
    [where.cpu, where.cores, where.platform, where.backend, where.threads, where.settings],
    [SERVER.cpu, SERVER.cores, SERVER.platform, 'WebAssembly (test build)', 2, 1],
  );
  assert.deepEqual(where.loadAverage, { min: one.machine.loadAverage, max: one.machine.loadAverage + 1.5 });
  assert.equal(sweepWhere([one, make(LAPTOP, 2)])!.settings, 2);
  assert.equal(sweepWhere([one, make(SERVER, 1)])!.settings, 2);
});
