import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changeTable, describeOptimizer, describeSchedule } from '../lib/recipe-change';
import { RECIPES } from '../lib/recipes';

test("every step's change is a table of short values in words, never raw JSON", () => {
  for (const recipe of RECIPES) {
    const table = changeTable(recipe.step);
    assert.ok(table.values.length > 0, `step ${recipe.step} changes something`);
    for (const row of table.values) {
      assert.equal(row.length, table.columns.length);
      for (const cell of row) {
        assert.doesNotMatch(cell, /[{}"]/, `step ${recipe.step}: ${cell}`);
        assert.ok(cell.length <= 45, `step ${recipe.step}: short enough for a narrow notebook: ${cell}`);
      }
    }
  }
});

test('step 1 lists every training field of its recipe; later steps list only what changed', () => {
  const first = changeTable(1);
  assert.deepEqual(first.columns, ['field', 'step 1']);
  assert.deepEqual(first.values.map((row) => row[0]), ['net', 'dataPath', 'batchSize', 'shuffle', 'dropLast', 'optimizer', 'schedule', 'epochs', 'stopAtAccuracy', 'evaluate']);
  assert.deepEqual(first.values.find((row) => row[0] === 'optimizer'), ['optimizer', 'adadelta lr 1 ρ 0.9 ε 1e-6']);
  assert.deepEqual(first.values.find((row) => row[0] === 'schedule'), ['schedule', 'StepLR ×0.7 every epoch']);
  assert.deepEqual(changeTable(5).values, [['batchSize', '64', '128']]);
  const final = changeTable(8);
  assert.deepEqual(final.columns, ['field', 'step 7', 'step 8']);
  assert.match(final.caption, /^step 7 -> step 8: /);
  assert.deepEqual(final.values.find((row) => row[0] === 'optimizer'), ['optimizer', 'adadelta lr 4 ρ 0.9 ε 1e-6', 'adam lr 0.01 β 0.7/0.9 ε 1e-8']);
  assert.deepEqual(final.values.find((row) => row[0] === 'schedule'), ['schedule', 'one-cycle peak 4, 30% warm-up, cos', 'one-cycle peak 0.01, 30% warm-up, cos']);
  assert.deepEqual(changeTable(2).values, [['stopAtAccuracy', 'no early stop', 'stop at 99% test accuracy']]);
});

test('a one-cycle schedule names its start and end rates only when they differ from the defaults', () => {
  const base = { kind: 'onecycle', maxLr: 4, pctStart: 0.25, anneal: 'linear', divFactor: 25, finalDivFactor: 1e4, threePhase: false } as const;
  assert.equal(describeSchedule(base), 'one-cycle peak 4, 25% warm-up, linear');
  assert.equal(describeSchedule({ ...base, divFactor: 10, threePhase: true }), 'one-cycle peak 4, 25% warm-up, linear, start peak/10, end start/10000, three phases');
  assert.equal(describeOptimizer({ kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 }), 'adam lr 0.001 β 0.9/0.999 ε 1e-8');
});
