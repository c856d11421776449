/**
 * Validation of everything a user can type: recipe fields and run options. Each check runs before
 * any work starts and names the field and the allowed values.
 */
import { UsageError } from './errors';
import { netSpecProblem } from './nets';
import { NET_NAMES, RECIPES, stepRange, type NetName, type Recipe } from './recipes';

function isFinitePositive(value: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** A positive integer field (batch size, epochs, runs), or a UsageError naming it. */
export function checkPositiveInteger(field: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new UsageError(`${field} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** A positive finite number (learning rates), or a UsageError naming the field. */
export function checkPositiveNumber(field: string, value: number): number {
  if (!isFinitePositive(value)) {
    throw new UsageError(`${field} must be a positive finite number, got ${String(value)}`);
  }
  return value;
}

/** An accuracy target in percent, (0, 100]. */
export function checkAccuracyTarget(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 100) {
    throw new UsageError(`${field} must be a test accuracy in percent between 0 and 100, got ${String(value)}`);
  }
  return value;
}

function checkUnitInterval(field: string, value: number, { open }: { open: boolean }): void {
  const ok = Number.isFinite(value) && value >= 0 && (open ? value < 1 : value <= 1);
  if (!ok) throw new UsageError(`${field} must be in [0, 1${open ? ')' : ']'}, got ${String(value)}`);
}

/** Throws a UsageError at the first field of `recipe` that cannot be trained; returns it unchanged. */
export function validateRecipe(recipe: Recipe): Recipe {
  const where = `recipe ${recipe.slug ?? String(recipe.step)}`;
  if (typeof recipe.net === 'string' || recipe.net === null || typeof recipe.net !== 'object') {
    if (!NET_NAMES.includes(recipe.net as NetName)) {
      throw new UsageError(`${where}: unknown net '${String(recipe.net)}': nets are ${NET_NAMES.join(', ')}, or a net spec (lib/nets.ts)`);
    }
  } else {
    const problem = netSpecProblem(recipe.net);
    if (problem !== null) throw new UsageError(`${where}: net ${problem}`);
  }
  if (recipe.dataPath !== 'per-sample' && recipe.dataPath !== 'device') {
    throw new UsageError(`${where}: dataPath must be 'per-sample' or 'device', got '${String(recipe.dataPath)}'`);
  }
  // device tensors keep the order they were saved in: reshuffling them would need a gather per batch
  if (recipe.shuffle !== 'once' && (recipe.dataPath === 'device' || recipe.shuffle !== 'every-epoch')) {
    const allowed = recipe.dataPath === 'device' ? "'once'" : "'every-epoch' or 'once'";
    throw new UsageError(`${where}: shuffle must be ${allowed} on the ${recipe.dataPath} data path, got '${String(recipe.shuffle)}'`);
  }
  if (typeof recipe.dropLast !== 'boolean') {
    throw new UsageError(`${where}: dropLast must be true or false, got ${String(recipe.dropLast)}`);
  }
  checkPositiveInteger(`${where}: batchSize`, recipe.batchSize);
  checkPositiveInteger(`${where}: epochs`, recipe.epochs);
  if (recipe.stopAtAccuracy !== null) checkAccuracyTarget(`${where}: stopAtAccuracy`, recipe.stopAtAccuracy);
  if (recipe.stopAtAccuracy !== null && recipe.evaluate !== 'every-epoch') {
    throw new UsageError(`${where}: stopping at an accuracy needs evaluate 'every-epoch'`);
  }
  if (recipe.labelSmoothing !== undefined) checkUnitInterval(`${where}: labelSmoothing`, recipe.labelSmoothing, { open: true });
  const optimizer = recipe.optimizer;
  checkPositiveNumber(`${where}: optimizer.lr`, optimizer.lr);
  checkPositiveNumber(`${where}: optimizer.eps`, optimizer.eps);
  if (optimizer.kind === 'adadelta') {
    checkUnitInterval(`${where}: optimizer.rho`, optimizer.rho, { open: true });
  } else if (optimizer.kind === 'adam') {
    checkUnitInterval(`${where}: optimizer.beta1`, optimizer.beta1, { open: true });
    checkUnitInterval(`${where}: optimizer.beta2`, optimizer.beta2, { open: true });
  } else {
    throw new UsageError(`${where}: unknown optimizer '${String((optimizer as { kind: unknown }).kind)}': adadelta, adam`);
  }
  const schedule = recipe.schedule;
  if (schedule.kind === 'step') {
    checkPositiveInteger(`${where}: schedule.stepSize`, schedule.stepSize);
    checkPositiveNumber(`${where}: schedule.gamma`, schedule.gamma);
  } else if (schedule.kind === 'onecycle') {
    checkPositiveNumber(`${where}: schedule.maxLr`, schedule.maxLr);
    checkPositiveNumber(`${where}: schedule.divFactor`, schedule.divFactor);
    checkPositiveNumber(`${where}: schedule.finalDivFactor`, schedule.finalDivFactor);
    checkUnitInterval(`${where}: schedule.pctStart`, schedule.pctStart, { open: true });
    if (schedule.anneal !== 'cos' && schedule.anneal !== 'linear') {
      throw new UsageError(`${where}: schedule.anneal must be 'cos' or 'linear', got '${String(schedule.anneal)}'`);
    }
  } else {
    throw new UsageError(`${where}: unknown schedule '${String((schedule as { kind: unknown }).kind)}': step, onecycle`);
  }
  return recipe;
}

/** Parses a step list such as '1-9', '4-8' or '1,4,8' into step numbers, checked against the ladder (RECIPES). */
export function parseSteps(text: string): number[] {
  const steps: number[] = [];
  const allowed = `steps are ${stepRange()}, as 'N', 'A-B' or 'A,B,C'`;
  for (const part of text.split(',')) {
    const range = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!range) throw new UsageError(`--steps '${text}' is not a step list: ${allowed}`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (from < 1 || to > RECIPES.length || from > to) {
      throw new UsageError(`--steps '${text}' is out of range: ${allowed}`);
    }
    for (let step = from; step <= to; step++) if (!steps.includes(step)) steps.push(step);
  }
  return steps;
}

/**
 * Parses a whole number typed for option `field`: plain decimal digits only ('0x10', '1e3', '+2',
 * '-1' and '2.0' are refused), within [min, max]; the message names the field and the range.
 */
export function parseIntegerOption(field: string, text: string, min: number, max: number, why = ''): number {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = `${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`;
    throw new UsageError(`${field} must be a whole number from ${range} in decimal digits${why}, got '${text}'`);
  }
  return value;
}

/** Parses a number given as text for option `field`; NaN, empty and partial numbers are rejected. */
export function parseNumberOption(field: string, text: string): number {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) throw new UsageError(`${field} must be a number, got '${text}'`);
  return value;
}
