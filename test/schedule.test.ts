/**
 * Schedules as pure functions: the shape of one-cycle and StepLR from their definitions, and
 * argument checks. Value-for-value agreement with PyTorch is in parity.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RECIPES } from '../lib/recipes';
import { learningRateAt, oneCycleLr, stepLr, type OneCycleSchedule, type StepSchedule } from '../lib/schedule';

const cosCycle: OneCycleSchedule = {
  kind: 'onecycle',
  maxLr: 4,
  pctStart: 0.3,
  anneal: 'cos',
  divFactor: 25,
  finalDivFactor: 1e4,
  threePhase: false,
};

function close(actual: number, expected: number, message: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${message}: ${actual} vs ${expected}`);
}

describe('oneCycleLr', () => {
  const total = 100; // warm-up ends at step 0.3 * 100 - 1 = 29

  test('starts at maxLr / divFactor, peaks at maxLr, ends at start / finalDivFactor', () => {
    close(oneCycleLr(cosCycle, 0, total), 4 / 25, 'first step');
    close(oneCycleLr(cosCycle, 29, total), 4, 'end of warm-up');
    close(oneCycleLr(cosCycle, total - 1, total), 4 / 25 / 1e4, 'last step');
  });

  test('rises strictly to the peak, then falls strictly', () => {
    const lrs = Array.from({ length: total }, (_, i) => oneCycleLr(cosCycle, i, total));
    for (let i = 1; i <= 29; i++) assert.ok(lrs[i]! > lrs[i - 1]!, `step ${i} should rise`);
    for (let i = 30; i < total; i++) assert.ok(lrs[i]! < lrs[i - 1]!, `step ${i} should fall`);
  });

  test('cos anneal is halfway at the middle of a phase; linear is a straight line', () => {
    const linear: OneCycleSchedule = { ...cosCycle, anneal: 'linear', pctStart: 0.5 };
    // total 102: warm-up ends at 50, the midpoint of [0, 50] is step 25
    const middle = (4 / 25 + 4) / 2;
    close(oneCycleLr({ ...cosCycle, pctStart: 0.5 }, 25, 102), middle, 'cos midpoint');
    close(oneCycleLr(linear, 25, 102), middle, 'linear midpoint');
    close(oneCycleLr(linear, 10, 102), 4 / 25 + (4 - 4 / 25) * (10 / 50), 'linear at a fifth');
  });

  test('three phases: up, back down to the start value, then down to the floor', () => {
    const three: OneCycleSchedule = { ...cosCycle, threePhase: true };
    // phase ends: 0.3 * 100 - 1 = 29, 2 * 0.3 * 100 - 2 = 58, 99
    close(oneCycleLr(three, 29, total), 4, 'peak');
    close(oneCycleLr(three, 58, total), 4 / 25, 'back at the start value');
    close(oneCycleLr(three, total - 1, total), 4 / 25 / 1e4, 'floor');
    assert.ok(oneCycleLr(three, 40, total) < 4 && oneCycleLr(three, 40, total) > 4 / 25);
  });

  test('a one-step run uses the final value, as PyTorch does', () => {
    close(oneCycleLr(cosCycle, 0, 1), 4 / 25 / 1e4, 'single step');
  });

  test('rejects steps outside the run and bad settings with RangeError', () => {
    assert.throws(() => oneCycleLr(cosCycle, total, total), RangeError);
    assert.throws(() => oneCycleLr(cosCycle, -1, total), RangeError);
    assert.throws(() => oneCycleLr(cosCycle, 1.5, total), RangeError);
    assert.throws(() => oneCycleLr(cosCycle, 0, 0), RangeError);
    assert.throws(() => oneCycleLr({ ...cosCycle, pctStart: 1 }, 0, total), RangeError);
    assert.throws(() => oneCycleLr({ ...cosCycle, pctStart: 0 }, 0, total), RangeError);
    assert.throws(() => oneCycleLr({ ...cosCycle, divFactor: 0 }, 0, total), RangeError);
    assert.throws(() => oneCycleLr({ ...cosCycle, maxLr: Number.NaN }, 0, total), RangeError);
  });
});

describe('stepLr', () => {
  const everyEpoch: StepSchedule = { kind: 'step', stepSize: 1, gamma: 0.7 };

  test('multiplies by gamma once per stepSize epochs', () => {
    close(stepLr(everyEpoch, 1, 0), 1, 'epoch 0');
    close(stepLr(everyEpoch, 1, 1), 0.7, 'epoch 1');
    close(stepLr(everyEpoch, 2, 3), 2 * 0.7 * 0.7 * 0.7, 'epoch 3');
    const everyTwo: StepSchedule = { ...everyEpoch, stepSize: 2 };
    close(stepLr(everyTwo, 1, 1), 1, 'epoch 1 of 2');
    close(stepLr(everyTwo, 1, 2), 0.7, 'epoch 2 of 2');
  });

  test('rejects a negative or fractional epoch and a zero step size', () => {
    assert.throws(() => stepLr(everyEpoch, 1, -1), RangeError);
    assert.throws(() => stepLr(everyEpoch, 1, 0.5), RangeError);
    assert.throws(() => stepLr({ ...everyEpoch, stepSize: 0 }, 1, 0), RangeError);
  });
});

describe('learningRateAt', () => {
  test('one-cycle follows the step and ignores the optimizer lr; StepLR follows the epoch', () => {
    const at = { step: 10, epoch: 3, totalSteps: 100 };
    assert.equal(learningRateAt(cosCycle, 123, at), oneCycleLr(cosCycle, 10, 100));
    const step: StepSchedule = { kind: 'step', stepSize: 1, gamma: 0.7 };
    assert.equal(learningRateAt(step, 2, at), stepLr(step, 2, 3));
  });

  test('validates the position for every kind of schedule', () => {
    const step: StepSchedule = { kind: 'step', stepSize: 1, gamma: 0.7 };
    assert.throws(() => learningRateAt(step, 1, { step: 0, epoch: 0, totalSteps: 0 }), RangeError);
    assert.throws(() => learningRateAt(step, 1, { step: 5, epoch: 0, totalSteps: 5 }), RangeError);
  });

  test('every recipe gives a positive finite rate over its whole run', () => {
    for (const recipe of RECIPES) {
      const stepsPerEpoch = Math.ceil(60000 / recipe.batchSize);
      const totalSteps = recipe.epochs * stepsPerEpoch;
      for (const step of [0, Math.floor(totalSteps / 2), totalSteps - 1]) {
        const lr = learningRateAt(recipe.schedule, recipe.optimizer.lr, {
          step,
          epoch: Math.floor(step / stepsPerEpoch),
          totalSteps,
        });
        assert.ok(Number.isFinite(lr) && lr > 0, `step ${recipe.step} at ${step}: ${lr}`);
      }
    }
  });
});
