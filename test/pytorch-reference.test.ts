/**
 * bench/pytorch_reference.py, the PyTorch side of `npm run bench`'s side by side, against this
 * project's own rules: the recipe JSON the bench hands it holds every field it reads; it trains the
 * data path, batch count, early stop and evaluation the recipe says; and its learning rates, from
 * PyTorch's own schedulers, are lib/schedule.ts's and the fixtures' (PyTorch 1.13) values.
 * The runs need a Python that imports torch: without one they skip and say why, except in CI,
 * where that is a failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import {
  findTorchPython,
  pytorchRecipeInput,
  PYTORCH_REFERENCE_SCRIPT,
  runPytorchReference,
  type PytorchDescription,
  type PytorchRecipeInput,
  type PytorchResult,
} from '../bench/pytorch-reference';
import { batchesPerEpoch } from '../lib/device-data';
import { parameterInfo } from '../lib/model';
import type { NetSpec } from '../lib/nets';
import { RECIPES, recipeForStep, type Recipe } from '../lib/recipes';
import { learningRateAt } from '../lib/schedule';
import { openPytorchFixtures, pytorchFixtureDir } from './pytorch-fixtures';

const MNIST_DIR = process.env.MNIST_DIR ?? '../shared/data/mnist';
const found = findTorchPython();
const torchPython = typeof found === 'string' ? found : null;
/** Why the torch runs cannot run here; in CI (CI set) they run regardless, and fail saying why. */
const skipTorch = typeof found !== 'string' && !process.env.CI ? found.skipped : false;
/** The Python with torch; without one (only in CI does a test get this far) the test fails, saying why. */
function withTorch(): string {
  assert.ok(torchPython !== null, `CI must run the PyTorch reference: ${typeof found === 'string' ? '' : found.skipped}`);
  return torchPython;
}
/** --fields and the recipe checks come before torch is imported: any Python 3 answers them. */
const anyPython = torchPython ?? 'python3';

interface ScriptFields {
  recipe: string[];
  optimizer: Record<string, string[]>;
  schedule: Record<string, string[]>;
  run: string[];
}

function script(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const child = spawnSync(anyPython, [PYTORCH_REFERENCE_SCRIPT, ...args], { input, encoding: 'utf8', env: { ...process.env, MNIST_DIR } });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

const tiny = (recipe: Recipe, changes: Partial<Recipe> = {}): PytorchRecipeInput =>
  pytorchRecipeInput({ ...recipe, ...changes }, { seed: 3, threads: 1, trainCount: 512, testCount: 256 });

test('the recipe JSON the bench hands over holds every field the script reads, for every step', () => {
  const answer = script(['--fields']);
  assert.equal(answer.status, 0, answer.stderr);
  const fields = JSON.parse(answer.stdout) as ScriptFields;
  assert.ok(fields.recipe.includes('dataPath') && fields.run.includes('trainCount'), answer.stdout);
  for (const recipe of RECIPES) {
    // as it travels: through JSON, as spawnSync's input
    const input = JSON.parse(JSON.stringify(pytorchRecipeInput(recipe, { seed: 1, threads: 2 }))) as Record<string, unknown>;
    const optimizer = input['optimizer'] as Record<string, unknown>;
    const schedule = input['schedule'] as Record<string, unknown>;
    for (const field of fields.recipe) assert.ok(field in input, `step ${recipe.step} has no ${field}`);
    for (const field of fields.optimizer[recipe.optimizer.kind]!) assert.ok(field in optimizer, `step ${recipe.step} has no optimizer.${field}`);
    for (const field of fields.schedule[recipe.schedule.kind]!) assert.ok(field in schedule, `step ${recipe.step} has no schedule.${field}`);
    assert.equal(input['seed'], 1);
    assert.equal(input['threads'], 2);
    assert.ok(!('trainCount' in input) && !('testCount' in input), 'counts not asked for are left out, not sent as null');
  }
  const counted = pytorchRecipeInput(recipeForStep(8), { seed: 0, threads: 1, trainCount: 512, testCount: 256 });
  assert.equal(counted.trainCount, 512);
  assert.equal(counted.testCount, 256);
});

test('a recipe missing a field, or with a net given by name or badly described, is refused in one line, exit 2', () => {
  const input = pytorchRecipeInput(recipeForStep(8), { seed: 1, threads: 1 });
  const { dropLast: _dropped, ...withoutDropLast } = input;
  let answer = script(['-'], JSON.stringify(withoutDropLast));
  assert.equal(answer.status, 2, answer.stderr);
  assert.match(answer.stderr.trim(), /^error: the recipe has no dropLast: pass JSON\.stringify\(recipeForStep\(n\)\)/);
  assert.doesNotMatch(answer.stderr.trim(), /\n/);
  answer = script(['-'], JSON.stringify({ ...input, optimizer: { kind: 'adam', lr: 0.01 } }));
  assert.equal(answer.status, 2, answer.stderr);
  assert.match(answer.stderr, /^error: the recipe has no optimizer\.beta1, optimizer\.beta2, optimizer\.eps/);
  answer = script(['-'], JSON.stringify({ ...input, net: 'final' }));
  assert.equal(answer.status, 2, answer.stderr);
  assert.match(answer.stderr.trim(), /^error: net must be a description object with convs, dropout2d, fc, dropout, got "final": bench\/pytorch-reference\.ts turns a ladder net's name into its description$/);
  answer = script(['-'], JSON.stringify({ ...input, net: { ...input.net, convs: [{ out: 16, kernel: 3, pool: 'sideways', relu: true }] } }));
  assert.equal(answer.status, 2, answer.stderr);
  assert.match(answer.stderr.trim(), /^error: net\.convs\[0\]\.pool must be one of none, after-relu, before-relu, got "sideways"$/);
});

test('any net description trains in PyTorch with the parameter count lib/model.ts gives it', { skip: skipTorch, timeout: 300_000 }, () => {
  const python = withTorch();
  const custom: NetSpec = {
    convs: [
      { out: 16, kernel: 3, pool: 'before-relu', relu: true },
      { out: 24, kernel: 3, pool: 'after-relu', relu: true },
    ],
    dropout2d: 0,
    fc: 128,
    dropout: 0.25,
  };
  for (const net of ['baseline', 'final', custom] as const) {
    const recipe = { ...recipeForStep(8), net };
    const result = runPytorchReference<PytorchResult>(python, tiny(recipe, { epochs: 1 }), { mnistDir: MNIST_DIR });
    const ours = parameterInfo(net).reduce((sum, info) => sum + info.pytorchShape.reduce((a, b) => a * b, 1), 0);
    assert.equal(result.parameters, ours, `${typeof net === 'string' ? net : 'custom'}: PyTorch built ${result.parameters} parameters, lib/model.ts ${ours}`);
    assert.equal(result.device, 'cpu');
    assert.ok(result.testAccuracy >= 0 && result.testAccuracy <= 100);
  }
});

test('a per-sample step (3) and a device step (8) on a tiny subset: one JSON line of plausible fields', { skip: skipTorch, timeout: 300_000 }, () => {
  const python = withTorch();
  for (const recipe of [recipeForStep(3), recipeForStep(8)]) {
    const input = tiny(recipe, { epochs: 1 });
    const result = runPytorchReference<PytorchResult>(python, input, { mnistDir: MNIST_DIR });
    assert.equal(result.step, recipe.step);
    assert.ok(Number.isFinite(result.seconds) && result.seconds > 0, `seconds ${result.seconds}`);
    assert.equal(result.epochs, 1);
    assert.equal(result.batchesPerEpoch, batchesPerEpoch(512, recipe.batchSize, recipe.dropLast));
    // a whole number of the 256 test images, and better than chance after a few batches
    assert.ok(Number.isInteger(Math.round((result.testAccuracy * 256) / 100 * 1e6) / 1e6), `accuracy ${result.testAccuracy}`);
    assert.ok(result.testAccuracy > 10 && result.testAccuracy <= 100, `accuracy ${result.testAccuracy}`);
    assert.equal(result.threads, 1);
    assert.match(result.torch, /^\d+\.\d+/);
  }
});

test('early stopping and the evaluation policy: stop at the first epoch that reaches the bar, else all epochs', { skip: skipTorch, timeout: 300_000 }, () => {
  const python = withTorch();
  // step 4 (device path) stops at its first epoch when the bar is 0%; 520 images at 64 are 8
  // batches once the last partial one (of 8 images) is dropped
  const dropLastInput = pytorchRecipeInput({ ...recipeForStep(4), epochs: 3, stopAtAccuracy: 0 }, { seed: 3, threads: 1, trainCount: 520, testCount: 256 });
  const stopped = runPytorchReference<PytorchResult>(python, dropLastInput, { mnistDir: MNIST_DIR });
  assert.equal(stopped.epochs, 1);
  assert.equal(stopped.batchesPerEpoch, 8);
  // a bar above 100% is never reached: every epoch runs
  const unreached = runPytorchReference<PytorchResult>(python, tiny(recipeForStep(4), { epochs: 2, stopAtAccuracy: 101 }), { mnistDir: MNIST_DIR });
  assert.equal(unreached.epochs, 2);
  // step 8 (evaluate 'end', no bar) runs its fixed length; 520 images at 256 keep a last batch of 8
  const input = pytorchRecipeInput({ ...recipeForStep(8), epochs: 2 }, { seed: 3, threads: 1, trainCount: 520, testCount: 256 });
  const fixed = runPytorchReference<PytorchResult>(python, input, { mnistDir: MNIST_DIR });
  assert.equal(fixed.epochs, 2);
  assert.equal(fixed.batchesPerEpoch, 3);
});

test("--describe: every step's batch count and learning rates are lib/device-data.ts's and lib/schedule.ts's", { skip: skipTorch, timeout: 300_000 }, () => {
  const python = withTorch();
  for (const recipe of RECIPES) {
    const described = runPytorchReference<PytorchDescription>(python, pytorchRecipeInput(recipe, { seed: 1, threads: 1 }), { describe: true });
    const perEpoch = batchesPerEpoch(60_000, recipe.batchSize, recipe.dropLast);
    assert.equal(described.batchesPerEpoch, perEpoch, `step ${recipe.step}`);
    assert.equal(described.totalSteps, perEpoch * recipe.epochs, `step ${recipe.step}`);
    assert.equal(described.learningRates.length, perEpoch * recipe.epochs, `step ${recipe.step}`);
    described.learningRates.forEach((lr, step) => {
      const ours = learningRateAt(recipe.schedule, recipe.optimizer.lr, { step, epoch: Math.floor(step / perEpoch), totalSteps: described.totalSteps });
      assert.ok(Math.abs(lr - ours) <= 1e-9 * Math.abs(ours), `step ${recipe.step}, optimizer step ${step}: PyTorch ${lr}, ours ${ours}`);
    });
  }
  // the drop-last rule at a count where it matters: 1000 at 64 is 15 batches dropped, 16 kept
  const dropped = runPytorchReference<PytorchDescription>(python, pytorchRecipeInput(recipeForStep(4), { seed: 1, threads: 1, trainCount: 1000 }), { describe: true });
  assert.equal(dropped.batchesPerEpoch, 15);
  const kept = runPytorchReference<PytorchDescription>(python, pytorchRecipeInput(recipeForStep(3), { seed: 1, threads: 1, trainCount: 1000 }), { describe: true });
  assert.equal(kept.batchesPerEpoch, 16);
});

test("--describe: steps 1, 7 and 8's learning rates are the fixtures' (PyTorch 1.13's own)", { skip: skipTorch, timeout: 120_000 }, () => {
  const python = withTorch();
  const { manifest } = openPytorchFixtures(pytorchFixtureDir('../shared/fixtures/pytorch'));
  const describe = (step: number): PytorchDescription =>
    runPytorchReference<PytorchDescription>(python, pytorchRecipeInput(recipeForStep(step), { seed: 1, threads: 1 }), { describe: true });
  const close = (got: number[], want: number[], what: string): void => {
    assert.equal(got.length, want.length, what);
    got.forEach((lr, i) => assert.ok(Math.abs(lr - want[i]!) <= 1e-9 * Math.abs(want[i]!), `${what} [${i}]: ${lr}, fixture ${want[i]}`));
  };
  for (const step of [7, 8]) {
    const recipe = recipeForStep(step);
    const schedule = recipe.schedule as Extract<Recipe['schedule'], { kind: 'onecycle' }>;
    const described = describe(step);
    const fixture = manifest.schedules.find((c) => c.kind === 'onecycle' && c.max_lr === schedule.maxLr && c.total_steps === described.totalSteps);
    assert.ok(fixture, `a one-cycle fixture with max_lr ${schedule.maxLr} and ${described.totalSteps} steps`);
    close(described.learningRates, fixture.lr, `step ${step}`);
  }
  const stepFixture = manifest.schedules.find((c) => c.kind === 'step');
  assert.ok(stepFixture?.kind === 'step');
  const described = describe(1);
  // StepLR: one rate per epoch, the one each of its batches uses
  const perEpoch = described.batchesPerEpoch;
  close(stepFixture.lr.map((_, epoch) => described.learningRates[epoch * perEpoch]!), stepFixture.lr, 'step 1 per epoch');
  assert.equal(new Set(described.learningRates.slice(0, perEpoch)).size, 1, 'StepLR holds within an epoch');
});
