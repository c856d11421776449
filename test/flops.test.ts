/**
 * FLOPs per training image, layer by layer (lib/flops.ts), and the table notebook 09 shows
 * (lib/flops-notebook.ts), against counts worked out by hand from the nets' shapes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flopsTable } from '../lib/flops-notebook';
import { layerFlopsPerImage, trainingStepFlops } from '../lib/flops';
import { recipeForStep } from '../lib/recipes';

test("final net (step 8): every layer's forward, input-gradient and weight-gradient FLOPs, by hand", () => {
  // c1: 24x24 outputs x 24 maps x 5x5x1 taps = 345,600 multiply-adds; no input gradient (the images need none)
  // c2: 10x10 outputs x 32 maps x 3x3x24 taps = 691,200; f1: 800 x 256 = 204,800; f2: 256 x 10 = 2,560
  assert.deepEqual(layerFlopsPerImage('final'), [
    { layer: 'c1', forward: 2 * 24 * 24 * 24 * 25, inputGradient: 0, weightGradient: 2 * 24 * 24 * 24 * 25 },
    { layer: 'c2', forward: 2 * 10 * 10 * 32 * 9 * 24, inputGradient: 2 * 10 * 10 * 32 * 9 * 24, weightGradient: 2 * 10 * 10 * 32 * 9 * 24 },
    { layer: 'f1', forward: 2 * 800 * 256, inputGradient: 2 * 800 * 256, weightGradient: 2 * 800 * 256 },
    { layer: 'f2', forward: 2 * 256 * 10, inputGradient: 2 * 256 * 10, weightGradient: 2 * 256 * 10 },
  ]);
  assert.equal(layerFlopsPerImage('final')[0]!.forward, 691_200);
});

test("step 9's net: 16 maps in each convolution, by hand", () => {
  // c1: 24x24 x 16 x 5x5x1 = 230,400; c2: 10x10 x 16 x 3x3x16 = 230,400; f1: 5x5x16 = 400 -> 256; f2: 256 x 10
  const layers = layerFlopsPerImage(recipeForStep(9).net);
  assert.deepEqual(layers.map((l) => [l.layer, l.forward]), [['c1', 460_800], ['c2', 460_800], ['f1', 204_800], ['f2', 5_120]]);
  // per image: 2 passes of c1 + 3 of the rest, 2 FLOPs a multiply-add
  assert.equal(trainingStepFlops(recipeForStep(9).net, 1), 2 * (2 * 230_400 + 3 * (230_400 + 102_400 + 2_560)));
});

test('the table: MFLOP per image per layer and pass, a total row, and the ratio of the last step to the first', () => {
  const table = flopsTable([8, 9]);
  assert.deepEqual(table.columns, [
    'layer',
    'step 8 forward', 'step 8 input grad', 'step 8 weight grad', 'step 8 total',
    'step 9 forward', 'step 9 input grad', 'step 9 weight grad', 'step 9 total',
  ]);
  assert.deepEqual(table.values.map((row) => row[0]), ['c1', 'c2', 'f1', 'f2', 'total']);
  assert.deepEqual(table.values[0], ['c1', 0.691, 0, 0.691, 1.382, 0.461, 0, 0.461, 0.922]);
  // step 8: 2 x (2 x 345,600 + 3 x 898,560) = 6,773,760 FLOPs; step 9: 2 x (2 x 230,400 + 3 x 335,360) = 2,933,760
  assert.deepEqual(table.values[4], ['total', 2.488, 1.797, 2.488, 6.774, 1.132, 0.671, 1.132, 2.934]);
  assert.equal(table.ratio, 2_933_760 / 6_773_760);
  assert.match(table.caption, /step 9 needs 0\.43x the arithmetic of step 8 \(2\.934 against 6\.774\)/);
  assert.throws(() => flopsTable([]), /at least one step/);
  assert.throws(() => flopsTable([8, 10]), /unknown step 10/);
});
