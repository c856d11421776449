/**
 * bench/variant.ts's warm-up before a timed recipe meets every kernel shape the timed run will meet, the
 * epoch's last partial batch included, so the first timed run compiles nothing new. Seen from the
 * engine's own kernel log (tf.profile) of the warm-up and of the timed run. And a 'step' variant
 * reports the wait for the native kernels' helper thread where, and only where, those kernels run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { recipeWarmUp, type VariantOptions, type VariantResult } from '../bench/variant';
import { useBackend } from '../lib/backend';
import { loadMnist, takeSubset, type MnistArrays } from '../lib/data';
import { recipeForStep } from '../lib/recipes';
import { trainRecipe } from '../lib/train';

const MNIST_DIR = process.env.MNIST_DIR ?? '../shared/data/mnist';
let mnist: MnistArrays;

before(async () => {
  await useBackend({ name: 'wasm' });
  mnist = await loadMnist({ dir: MNIST_DIR });
});

/** Every kernel the engine ran, as 'name [input shapes]'. */
async function kernelShapes(run: () => Promise<unknown>): Promise<Set<string>> {
  const profile = await tf.profile(async () => {
    await run();
    return [];
  });
  return new Set(profile.kernels.map((k) => `${k.name} ${JSON.stringify(k.inputShapes)}`));
}

test('the warm-up before step 08 is timed meets every shape of the timed run, the last partial batch included', async () => {
  // batch 64 keeps it quick; 2152 = 33 batches of 64 and a last one of 40 images
  const recipe = { ...recipeForStep(8), batchSize: 64 };
  const data = takeSubset(mnist, 2152, 1000);
  const warm = await kernelShapes(() => recipeWarmUp(recipe, data));
  const timed = await kernelShapes(() => trainRecipe(recipe, data, { seed: 1 }));
  // slicing batches out of the whole split is the one thing a warm-up on a slice cannot share
  const wholeSplit = (shape: string): boolean => shape.includes(`[[${data.train.count},`) || shape.includes(`[[${data.train.count}]`);
  // nor the read-back of 25 batch losses at once (trainRecipe's divergence check; a 9-batch
  // warm-up stacks fewer): a Pack of scalars, no compute operator behind it
  const lossReadBack = (shape: string): boolean => /^Pack \[(\[\],)*\[\]\]$/.test(shape);
  const unseen = [...timed].filter((shape) => !warm.has(shape) && !wholeSplit(shape) && !lossReadBack(shape));
  assert.deepEqual(unseen, [], 'first met in the timed run');
  assert.ok([...timed].some((shape) => shape.includes('[40,')), 'the timed run has a last batch of 40');
});

function runStepVariant(options: Partial<VariantOptions>): VariantResult {
  const all: VariantOptions = { kind: 'step', backend: 'wasm', threads: 1, tunedKernels: true, nets: ['final'], batchSize: 16, warmupSteps: 1, timedSteps: 2, ...options };
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../bench/variant.ts', import.meta.url)), JSON.stringify(all)], {
    encoding: 'utf8', timeout: 120_000,
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as VariantResult;
}

test("a 'step' variant reports the helper thread's wait per step with the native kernels, and none without", () => {
  const threaded = runStepVariant({ threads: 2 });
  const wait = threaded.helperWaitPerStep?.final;
  assert.ok(typeof wait === 'number' && wait >= 0 && wait < threaded.msPerStep!.final! * 2, `2 threads: ${JSON.stringify(threaded.helperWaitPerStep)}`);
  assert.deepEqual(runStepVariant({ threads: 1 }).helperWaitPerStep, { final: 0 }, 'one thread: nothing is split, nothing waited');
  const stock = runStepVariant({ threads: 2, tunedKernels: false, kernelSet: 'stock' });
  assert.equal(stock.nativeBuild, null);
  assert.equal(stock.helperWaitPerStep, undefined, 'the stock kernels have no helper thread to wait for');
});

test("a 'step' variant with peakProbe measures its build's peak on its threads before and after each net's steps, with the native kernels only", () => {
  const probed = runStepVariant({ threads: 2, peakProbe: true });
  const around = probed.peakAround?.final;
  assert.ok(around !== undefined && Number.isFinite(around.before) && around.before > 0 && Number.isFinite(around.after) && around.after > 0, JSON.stringify(probed.peakAround));
  assert.equal(runStepVariant({ threads: 1 }).peakAround, undefined, 'not asked for: not probed');
  const stock = runStepVariant({ threads: 1, tunedKernels: false, kernelSet: 'stock', peakProbe: true });
  assert.equal(stock.peakAround, undefined, 'no native build: no peak of its arithmetic to hold it against');
});
