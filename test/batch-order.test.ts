/**
 * The original's batch order through the real training loop: drop-last in steps 4-5, keep-last
 * with OneCycleLR counting it in 6-8, and the preprocessed cache left alone by held-out runs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../lib/backend';
import { drainBatches } from '../lib/batch-timing';
import { loadMnist, takeSubset, type MnistArrays } from '../lib/data';
import { loadDeviceMnist } from '../lib/device-data';
import { recipeForStep, type Recipe } from '../lib/recipes';
import { learningRateAt } from '../lib/schedule';
import { trainRecipe } from '../lib/train';

const MNIST_DIR = process.env.MNIST_DIR ?? '../shared/data/mnist';
let data: MnistArrays;

before(async () => {
  await useBackend({ name: 'wasm' });
  data = takeSubset(await loadMnist({ dir: MNIST_DIR }), 1536, 256);
});

/** A recipe of `step` with the slim net and one epoch: quick enough to train here several times. */
const short = (step: number, changes: Partial<Recipe> = {}): Recipe => ({
  ...recipeForStep(step),
  net: 'slim',
  epochs: 1,
  stopAtAccuracy: null,
  evaluate: 'end',
  ...changes,
});

test('steps 4 and 5 drop the last partial batch: 1,536 images at 100 train 15 batches', async () => {
  for (const step of [4, 5]) {
    assert.equal(recipeForStep(step).dropLast, true);
    const result = await trainRecipe(short(step, { batchSize: 100 }), data, { seed: 1 });
    assert.equal(result.batchLosses.length, 15, `step ${step}`);
  }
});

test('the one-cycle steps keep it, and the schedule counts it: 16 batches, the last at the final rate', async () => {
  for (const step of [6, 7, 8]) assert.equal(recipeForStep(step).dropLast, false);
  const recipe = short(8, { batchSize: 100 });
  const result = await trainRecipe(recipe, data, { seed: 1 });
  assert.equal(result.batchLosses.length, 16);
  const lastRate = learningRateAt(recipe.schedule, recipe.optimizer.lr, { step: 15, epoch: 0, totalSteps: 16 });
  assert.equal(result.learningRates.at(-1), lastRate);
  // OneCycleLR ends at max_lr / div_factor / final_div_factor = 0.01 / 25 / 1e4
  assert.ok(Math.abs(lastRate - 4e-8) < 1e-12, `last rate ${lastRate}`);
});

test('the steps 1-3 loader still reshuffles every epoch and keeps the last batch', () => {
  for (const step of [1, 2, 3]) {
    assert.equal(recipeForStep(step).shuffle, 'every-epoch');
    assert.equal(recipeForStep(step).dropLast, false);
  }
  for (const step of [4, 5, 6, 7, 8]) assert.equal(recipeForStep(step).shuffle, 'once');
});

test('a run with a held-out validation split leaves the preprocessed cache file as it was', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-cache-')), 'cache.bin');
  loadDeviceMnist(data, { cacheFile: file }).dispose();
  const digest = (): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const before = { digest: digest(), mtime: fs.statSync(file).mtimeMs };
  const result = await trainRecipe(short(8, { batchSize: 128 }), data, { seed: 3, validationCount: 256, cacheFile: file });
  assert.ok(result.validationAccuracy !== null);
  assert.equal(digest(), before.digest);
  assert.equal(fs.statSync(file).mtimeMs, before.mtime);
  // and a run on the whole training set still finds it valid
  const warnings: string[] = [];
  const device = loadDeviceMnist(data, { cacheFile: file, onCacheWarning: (m) => warnings.push(m) });
  assert.equal(device.cache, 'hit');
  device.dispose();
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
});

test('batch-assembly timing reads back every batch before the clock stops', async () => {
  const awaited: number[] = [];
  function* batches() {
    for (let i = 0; i < 4; i++) {
      const x = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
      const read = x.data.bind(x);
      x.data = (() => (awaited.push(i), read())) as typeof x.data;
      yield { x, y: tf.zeros([2], 'int32') as tf.Tensor1D };
    }
  }
  const tensorsBefore = tf.memory().numTensors;
  assert.equal(await drainBatches(batches()), 4);
  assert.deepEqual(awaited, [0, 1, 2, 3]);
  assert.equal(tf.memory().numTensors, tensorsBefore);
});
