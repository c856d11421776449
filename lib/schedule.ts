/**
 * Learning-rate schedules as pure functions of the step: arithmetic only, no tensors, no state.
 * They reproduce PyTorch's `OneCycleLR` and `StepLR` value for value (checked against PyTorch's
 * own numbers in the parity tests), so a recipe tuned in PyTorch keeps its learning rates here.
 */
import type { ScheduleSpec } from './recipes';

export type OneCycleSchedule = Extract<ScheduleSpec, { kind: 'onecycle' }>;
export type StepSchedule = Extract<ScheduleSpec, { kind: 'step' }>;

/** Where training stands when the learning rate is asked for. */
export interface SchedulePosition {
  /** Optimizer step index over the whole run, 0-based (the one-cycle schedule's clock). */
  step: number;
  /** Epoch index, 0-based (StepLR's clock). */
  epoch: number;
  /** Optimizer steps in the whole run: epochs x steps per epoch. */
  totalSteps: number;
}

function checkIndex(field: string, value: number, endExclusive: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= endExclusive) {
    throw new RangeError(
      `${field} must be an integer in [0, ${String(endExclusive)}), got ${String(value)}: ` +
        'pass the 0-based index of the current step',
    );
  }
}

function checkPositive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field} must be a positive finite number, got ${String(value)}`);
  }
}

function annealCos(startLr: number, endLr: number, fraction: number): number {
  return endLr + ((startLr - endLr) / 2) * (Math.cos(Math.PI * fraction) + 1);
}

function annealLinear(startLr: number, endLr: number, fraction: number): number {
  return (endLr - startLr) * fraction + startLr;
}

interface Phase {
  /** Last step of the phase. PyTorch keeps these as floats (pct_start x total - 1); so do we. */
  endStep: number;
  startLr: number;
  endLr: number;
}

/**
 * PyTorch's `OneCycleLR(max_lr, total_steps, pct_start, anneal_strategy, div_factor,
 * final_div_factor, three_phase)` with `cycle_momentum=False`: the learning rate optimizer step
 * `step` (0-based) uses, i.e. what PyTorch reports before its `step`-th `scheduler.step()`.
 * The optimizer's own lr plays no part: the schedule starts at maxLr / divFactor, as in PyTorch.
 */
// #region one-cycle
export function oneCycleLr(spec: OneCycleSchedule, step: number, totalSteps: number): number {
  if (!Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new RangeError(`totalSteps must be an integer >= 1, got ${String(totalSteps)}`);
  }
  checkIndex('step', step, totalSteps);
  checkPositive('maxLr', spec.maxLr);
  checkPositive('divFactor', spec.divFactor);
  checkPositive('finalDivFactor', spec.finalDivFactor);
  if (!(spec.pctStart > 0 && spec.pctStart < 1)) {
    throw new RangeError(`pctStart must be in (0, 1), got ${String(spec.pctStart)}`);
  }

  const initialLr = spec.maxLr / spec.divFactor;
  const minLr = initialLr / spec.finalDivFactor;
  const warmupEnd = spec.pctStart * totalSteps - 1;
  const phases: Phase[] = spec.threePhase
    ? [
        // 1) warm up to the peak, 2) back down to the start, 3) anneal to the floor
        { endStep: warmupEnd, startLr: initialLr, endLr: spec.maxLr },
        { endStep: 2 * spec.pctStart * totalSteps - 2, startLr: spec.maxLr, endLr: initialLr },
        { endStep: totalSteps - 1, startLr: initialLr, endLr: minLr },
      ]
    : [
        // 1) warm up to the peak, 2) anneal to the floor
        { endStep: warmupEnd, startLr: initialLr, endLr: spec.maxLr },
        { endStep: totalSteps - 1, startLr: spec.maxLr, endLr: minLr },
      ];
  const anneal = spec.anneal === 'cos' ? annealCos : annealLinear;

  // PyTorch's walk: the first phase whose end is not behind us (the last phase catches the rest);
  // each phase starts where the previous one ended, not one step later
  let phaseStart = 0;
  for (let i = 0; i < phases.length; i++) {
    const phase = phases[i]!;
    if (step <= phase.endStep || i === phases.length - 1) {
      const fraction = (step - phaseStart) / (phase.endStep - phaseStart);
      return anneal(phase.startLr, phase.endLr, fraction);
    }
    phaseStart = phase.endStep;
  }
  throw new Error('unreachable: the last one-cycle phase always matches');
}
// #endregion one-cycle

/** PyTorch's `StepLR(step_size, gamma)`: the learning rate of epoch `epoch` (0-based). */
// #region step-lr
export function stepLr(spec: StepSchedule, baseLr: number, epoch: number): number {
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new RangeError(`epoch must be an integer >= 0, got ${String(epoch)}: pass the 0-based epoch`);
  }
  if (!Number.isInteger(spec.stepSize) || spec.stepSize < 1) {
    throw new RangeError(`stepSize must be an integer >= 1, got ${String(spec.stepSize)}`);
  }
  checkPositive('gamma', spec.gamma);
  checkPositive('baseLr', baseLr);
  return baseLr * spec.gamma ** Math.floor(epoch / spec.stepSize);
}
// #endregion step-lr

/**
 * The learning rate for the optimizer step at `at`, for any recipe schedule. One-cycle reads
 * `step` and `totalSteps` (its peak is its own maxLr, so `baseLr` is unused); StepLR reads
 * `epoch` and scales `baseLr`, the optimizer's lr.
 */
export function learningRateAt(schedule: ScheduleSpec, baseLr: number, at: SchedulePosition): number {
  if (!Number.isInteger(at.totalSteps) || at.totalSteps < 1) {
    throw new RangeError(`totalSteps must be an integer >= 1, got ${String(at.totalSteps)}`);
  }
  checkIndex('step', at.step, at.totalSteps);
  switch (schedule.kind) {
    case 'onecycle':
      return oneCycleLr(schedule, at.step, at.totalSteps);
    case 'step':
      return stepLr(schedule, baseLr, at.epoch);
  }
}
