import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../lib/backend';
import { loadMnist, takeSubset, type MnistArrays } from '../lib/data';
import { DivergedError } from '../lib/errors';
import { recipeForStep, type Recipe } from '../lib/recipes';
import { trainRecipe } from '../lib/train';

const MNIST_DIR = process.env.MNIST_DIR ?? '../shared/data/mnist';
let data: MnistArrays;

before(async () => {
  await useBackend({ name: 'wasm' });
  data = takeSubset(await loadMnist({ dir: MNIST_DIR }), 1536, 512);
});

/** The final recipe at batch 64, so a small subset still gives the optimizer a few dozen steps. */
const small = (changes: Partial<Recipe> = {}): Recipe => ({ ...recipeForStep(8), batchSize: 64, ...changes });

test('the final recipe learns on a small subset and leaves no tensor behind', async () => {
  const tensorsBefore = tf.memory().numTensors;
  const result = await trainRecipe(small(), data, { seed: 3 });
  assert.equal(tf.memory().numTensors, tensorsBefore);
  assert.ok(result.testAccuracy !== null && result.testAccuracy > 60, `accuracy ${result.testAccuracy} should be far above chance (10%)`);
  assert.equal(result.epochs, 1);
  assert.equal(result.batchLosses.length, Math.ceil(1536 / 64));
  assert.equal(result.learningRates.length, result.batchLosses.length);
  assert.equal(result.backend, 'wasm');
  assert.ok(result.seconds > 0);
  assert.equal(result.partial, false);
  // one-cycle: the rate rises from max/25 then falls far below it
  const peak = Math.max(...result.learningRates);
  assert.ok(Math.abs(peak - 0.01) < 1e-3 && result.learningRates[0]! < peak / 20 && result.learningRates.at(-1)! < peak / 1000);
});

test('the tensor count stays flat across epochs and evaluations', async () => {
  const counts: number[] = [];
  const tensorsBefore = tf.memory().numTensors;
  await trainRecipe(small({ epochs: 3, evaluate: 'every-epoch' }), data, { seed: 4, onEpoch: () => counts.push(tf.memory().numTensors) });
  assert.equal(counts.length, 3);
  assert.equal(new Set(counts).size, 1, `tensor counts per epoch: ${counts.join(', ')}`);
  assert.equal(tf.memory().numTensors, tensorsBefore);
});

test('the same seed repeats a run exactly; another seed does not', async () => {
  const a = await trainRecipe(small(), data, { seed: 7 });
  const b = await trainRecipe(small(), data, { seed: 7 });
  const c = await trainRecipe(small(), data, { seed: 8 });
  assert.deepEqual(a.batchLosses, b.batchLosses);
  assert.equal(a.testAccuracy, b.testAccuracy);
  assert.notDeepEqual(a.batchLosses, c.batchLosses);
});

test('early stopping ends at the first epoch that reaches the target', async () => {
  const stopping = small({ epochs: 3, evaluate: 'every-epoch', stopAtAccuracy: 20, schedule: { kind: 'step', stepSize: 1, gamma: 0.7 } });
  const stopped = await trainRecipe(stopping, data, { seed: 5 });
  assert.equal(stopped.epochs, 1);
  assert.equal(stopped.stoppedEarly, true);
  assert.ok(stopped.history[0]!.evalAccuracy! >= 20);
  const unreachable = await trainRecipe({ ...stopping, stopAtAccuracy: 100 }, data, { seed: 5 });
  assert.equal(unreachable.epochs, 3);
  assert.equal(unreachable.stoppedEarly, false);
  assert.ok(unreachable.history.every((r) => r.evalAccuracy !== null && r.evalSet === 'test'));
});

test('a fixed-length recipe trains every epoch and tests once, at the end', async () => {
  const result = await trainRecipe(small({ epochs: 2 }), data, { seed: 6 });
  assert.equal(result.epochs, 2);
  assert.deepEqual(result.history.map((r) => r.evalAccuracy === null), [true, false]);
  assert.equal(result.batchLosses.length, 2 * 24);
});

/**
 * How often each split was evaluated, seen from the engine's own kernel log (tf.profile): every
 * evaluation takes one ArgMax of its [images, 10] log-probabilities (1000 images a batch, more
 * than any split here), and training takes none. In the order they ran.
 */
async function evaluationsOf(run: () => Promise<unknown>): Promise<number[]> {
  const profile = await tf.profile(async () => {
    await run();
    return [];
  });
  return profile.kernels
    .filter((k) => k.name === 'ArgMax' && k.inputShapes[0]?.length === 2 && k.inputShapes[0][1] === 10)
    .map((k) => k.inputShapes[0]![0]!);
}

test('with a validation split, stopping is decided on held-out training images and the test set is seen once', async () => {
  const recipe = small({ epochs: 2, evaluate: 'every-epoch', stopAtAccuracy: 100 });
  let result: Awaited<ReturnType<typeof trainRecipe>> | null = null;
  const evaluated = await evaluationsOf(async () => {
    result = await trainRecipe(recipe, data, { seed: 2, validationCount: 256 });
  });
  // the 256 held-out images after each epoch, then the 512 test images once, at the very end
  assert.deepEqual(evaluated, [256, 256, 512]);
  const done = result!;
  assert.ok(done.history.every((r) => r.evalSet === 'validation'));
  assert.equal(done.batchLosses.length, 2 * Math.ceil((1536 - 256) / 64));
  assert.ok(done.validationAccuracy !== null && done.testAccuracy !== null);
  // the validation accuracy is the last epoch's evaluation; the test accuracy is a count out of the
  // 512 test images (the two may coincide: 237 of 256 and 474 of 512 are both 92.578125%)
  assert.equal(done.validationAccuracy, done.history.at(-1)!.evalAccuracy);
  const testHits = (done.testAccuracy * 512) / 100;
  assert.ok(Math.abs(testHits - Math.round(testHits)) < 1e-9, `${done.testAccuracy}% is a count out of 512 images`);

  // the count is real: without a split the same recipe evaluates the test images after every epoch
  assert.deepEqual(await evaluationsOf(() => trainRecipe(recipe, data, { seed: 2 })), [512, 512]);
});

test('measureTest false (a sweep): the test set is never evaluated, only the validation split; without a split it is refused', async () => {
  const recipe = small({ epochs: 2, evaluate: 'every-epoch' });
  let result: Awaited<ReturnType<typeof trainRecipe>> | null = null;
  const evaluated = await evaluationsOf(async () => {
    result = await trainRecipe(recipe, data, { seed: 2, validationCount: 256, measureTest: false });
  });
  assert.deepEqual(evaluated, [256, 256]);
  assert.equal(result!.testAccuracy, null);
  assert.equal(result!.testLoss, null);
  assert.equal(result!.validationAccuracy, result!.history.at(-1)!.evalAccuracy);
  assert.ok(result!.validationAccuracy !== null);
  await assert.rejects(trainRecipe(recipe, data, { seed: 2, measureTest: false }), { name: 'RangeError', message: /measureTest false needs a validation split/ });
});

test('the per-sample path and the device path train identically for the same seed and order', async () => {
  const recipe = small({ net: 'slim', shuffle: 'once' });
  const onDevice = await trainRecipe({ ...recipe, dataPath: 'device' }, data, { seed: 9 });
  const perSample = await trainRecipe({ ...recipe, dataPath: 'per-sample' }, data, { seed: 9 });
  assert.equal(onDevice.batchLosses.length, perSample.batchLosses.length);
  for (let i = 0; i < onDevice.batchLosses.length; i++) {
    assert.ok(Math.abs(onDevice.batchLosses[i]! - perSample.batchLosses[i]!) < 1e-4, `batch ${i}`);
  }
});

test('a diverging loss stops the run naming step, batch and learning rate', async () => {
  const tensorsBefore = tf.memory().numTensors;
  const exploding = small({ optimizer: { kind: 'adam', lr: 3e38, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, schedule: { kind: 'step', stepSize: 1, gamma: 1 } });
  await assert.rejects(trainRecipe(exploding, data, { seed: 1, divergenceCheckEvery: 5 }), (error: unknown) => {
    assert.ok(error instanceof DivergedError);
    assert.match(error.message, /training diverged at step 8, epoch 1, batch \d+: loss is (NaN|Infinity|-Infinity) at learning rate 3\.000e\+38/);
    assert.equal(error.at.learningRate, 3e38);
    return true;
  });
  assert.equal(tf.memory().numTensors, tensorsBefore);
});

test('aborting ends the run at the next batch with a partial result', async () => {
  const controller = new AbortController();
  const result = await trainRecipe(small({ epochs: 2 }), data, {
    seed: 1,
    signal: controller.signal,
    onBatch: (p) => p.batch === 3 && controller.abort(),
  });
  assert.equal(result.partial, true);
  assert.equal(result.batchLosses.length, 3);
  assert.equal(result.testAccuracy, null);
});

test('an invalid recipe is rejected before any work starts', async () => {
  await assert.rejects(trainRecipe(small({ batchSize: 0 }), data, { seed: 1 }), /batchSize must be a positive integer/);
});
