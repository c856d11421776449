import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../lib/errors';
import { parseIntegerOption, parseNumberOption, parseSteps, validateRecipe } from '../lib/options';
import { RECIPES, recipeDiff, recipeForStep, type Recipe } from '../lib/recipes';

test('every recipe of the ladder is valid', () => {
  for (const recipe of RECIPES) assert.equal(validateRecipe(recipe), recipe);
});

test('a recipe may give its net as a spec instead of a name', () => {
  const net = { convs: [{ out: 8, kernel: 5, pool: 'before-relu' as const, relu: true }], dropout2d: 0, fc: 32, dropout: 0.1 };
  const recipe = { ...recipeForStep(8), net };
  assert.equal(validateRecipe(recipe), recipe);
});

test('each step differs from the previous one by its change only', () => {
  const fields = (a: Recipe, b: Recipe): string[] => recipeDiff(a, b).map(([field]) => field);
  assert.deepEqual(fields(RECIPES[0]!, RECIPES[1]!), ['stopAtAccuracy']);
  assert.deepEqual(fields(RECIPES[1]!, RECIPES[2]!), ['net']);
  // step 4 keeps the data on the device the way the original did: shuffled once, sliced in that order, last partial batch dropped
  assert.deepEqual(fields(RECIPES[2]!, RECIPES[3]!).sort(), ['dataPath', 'dropLast', 'shuffle']);
  assert.deepEqual(fields(RECIPES[3]!, RECIPES[4]!), ['batchSize']);
  // step 6: one-cycle over two fixed epochs, which keeps the last partial batch
  assert.deepEqual(fields(RECIPES[4]!, RECIPES[5]!).sort(), ['dropLast', 'epochs', 'evaluate', 'optimizer', 'schedule', 'stopAtAccuracy']);
  assert.deepEqual(fields(RECIPES[5]!, RECIPES[6]!).sort(), ['batchSize', 'net']);
  assert.deepEqual(fields(RECIPES[6]!, RECIPES[7]!).sort(), ['epochs', 'net', 'optimizer', 'schedule']);
  // step 9, ours: narrower convolutions, the one-cycle peak doubled, label smoothing
  assert.deepEqual(fields(RECIPES[7]!, RECIPES[8]!), ['net', 'schedule', 'labelSmoothing']);
  assert.equal(RECIPES.length, 9);
});

const bad: Array<[string, Partial<Recipe> | ((r: Recipe) => Recipe), RegExp]> = [
  ['zero batch', { batchSize: 0 }, /batchSize must be a positive integer, got 0/],
  ['negative epochs', { epochs: -1 }, /epochs must be a positive integer/],
  ['NaN epochs', { epochs: Number.NaN }, /epochs must be a positive integer, got NaN/],
  ['fractional batch', { batchSize: 64.5 }, /batchSize/],
  ['unknown net', { net: 'resnet' as Recipe['net'] }, /unknown net 'resnet': nets are baseline, pooled, slim, final/],
  ['net spec too deep for 28x28', (r) => ({ ...r, net: { convs: [{ out: 8, kernel: 28, pool: 'after-relu', relu: true }], dropout2d: 0, fc: 8, dropout: 0 } }), /: net c1: its 2x2 pool would shrink the 1x1 map to nothing \(28x28 images\): give it pool none or a smaller kernel$/],
  ['net spec with a zero hidden width', (r) => ({ ...r, net: { convs: [{ out: 8, kernel: 3, pool: 'none', relu: true }], dropout2d: 0, fc: 0, dropout: 0 } }), /net fc must be a whole number above 0, got 0/],
  ['target above 100', { stopAtAccuracy: 101 }, /stopAtAccuracy must be a test accuracy in percent between 0 and 100/],
  ['negative target', { stopAtAccuracy: -5 }, /stopAtAccuracy/],
  ['zero lr', (r) => ({ ...r, optimizer: { ...r.optimizer, lr: 0 } }), /optimizer.lr must be a positive finite number, got 0/],
  ['NaN lr', (r) => ({ ...r, optimizer: { ...r.optimizer, lr: Number.NaN } }), /optimizer.lr/],
  ['string lr', (r) => ({ ...r, optimizer: { ...r.optimizer, lr: '1e-3' as unknown as number } }), /optimizer.lr/],
];
for (const [name, change, message] of bad) {
  test(`a recipe with ${name} is rejected naming the field`, () => {
    const base = recipeForStep(2);
    const recipe = typeof change === 'function' ? change(base) : { ...base, ...change };
    assert.throws(() => validateRecipe(recipe), (e: unknown) => e instanceof UsageError && message.test(e.message));
  });
}

test('step lists parse ranges and lists, and reject what is out of range', () => {
  assert.deepEqual(parseSteps('1-8'), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(parseSteps('4-8'), [4, 5, 6, 7, 8]);
  assert.deepEqual(parseSteps('1,4,8'), [1, 4, 8]);
  assert.deepEqual(parseSteps('1-9'), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.throws(() => parseSteps('0-3'), /out of range: steps are 1-9/);
  assert.throws(() => parseSteps('10'), /out of range/);
  assert.throws(() => parseSteps('a'), /not a step list/);
  assert.throws(() => recipeForStep(10), /unknown step 10: steps are 1-9/);
});

test('numbers given as text must be whole numbers', () => {
  assert.equal(parseNumberOption('--runs', '3'), 3);
  assert.throws(() => parseNumberOption('--runs', 'three'), /--runs must be a number, got 'three'/);
  assert.throws(() => parseNumberOption('--runs', ''), /must be a number/);
  assert.throws(() => parseNumberOption('--runs', 'NaN'), /must be a number/);
});

test('integer options take plain decimal digits within their range only', () => {
  assert.equal(parseIntegerOption('--runs', '16', 1, 1000), 16);
  assert.equal(parseIntegerOption('--seed', '9007199254740991', 0, Number.MAX_SAFE_INTEGER), 9007199254740991);
  for (const text of ['0x10', '1e1', '+2', '-1', '2.0', ' 3', '', '٣']) {
    assert.throws(() => parseIntegerOption('--runs', text, 1, 1000), /--runs must be a whole number from 1 to 1,000 in decimal digits/, text);
  }
  assert.throws(() => parseIntegerOption('--runs', '1001', 1, 1000), /got '1001'/);
  assert.throws(() => parseIntegerOption('--seed', '9007199254740992', 0, Number.MAX_SAFE_INTEGER), /from 0 to 9,007,199,254,740,991/);
});
