/** bench/conv-shapes.ts times each distinct convolution of the ladder once, named by the steps that use it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ladderConvCases } from '../bench/conv-shapes';
import { RECIPES } from '../lib/recipes';

test('the cases are the distinct convolutions of the nine recipes, each with the steps that use it', () => {
  const cases = ladderConvCases();
  const keys = cases.map((c) => c.key);
  assert.equal(new Set(keys).size, keys.length, 'no shape twice');
  // steps 1-2 baseline, 3-6 pooled, 7 slim, 8 final, 9 its own: two convolutions each, 5 nets
  assert.equal(cases.reduce((n, c) => n + c.usedBy.length, 0), 2 * RECIPES.length);
  const byKey = new Map(cases.map((c) => [c.key, c]));
  assert.deepEqual(byKey.get('26x26x32 -> 64, 3x3')?.usedBy, ['step 1 c2', 'step 2 c2']);
  assert.deepEqual(byKey.get('13x13x32 -> 64, 3x3')?.usedBy, ['step 3 c2', 'step 4 c2', 'step 5 c2', 'step 6 c2']);
  assert.deepEqual(byKey.get('28x28x1 -> 24, 5x5')?.usedBy, ['step 8 c1']);
  assert.deepEqual(byKey.get('12x12x16 -> 16, 3x3')?.usedBy, ['step 9 c2']);
  assert.equal(keys.length, 9);
});

test("each case's FLOPs per image are 2 x output pixels x output channels x kernel area x input channels", () => {
  const step9c1 = ladderConvCases().find((c) => c.key === '28x28x1 -> 16, 5x5')!;
  assert.equal(step9c1.flopsPerImage, 2 * 24 * 24 * 16 * 5 * 5 * 1);
  const pooledC2 = ladderConvCases().find((c) => c.key === '13x13x32 -> 64, 3x3')!;
  assert.equal(pooledC2.flopsPerImage, 2 * 11 * 11 * 64 * 3 * 3 * 32);
});
