/**
 * A step's change as a small table of recipe fields, each value written short and readable
 * ("adam lr 0.01 β 0.7/0.9", "one-cycle peak 4, 30% warm-up, cos") instead of raw JSON. Built from
 * the two recipe objects in lib/recipes.ts, never retyped.
 */
import { netLabel, netSpec, type NetRef } from './nets';
import { recipeForStep, type OptimizerSpec, type Recipe, type ScheduleSpec } from './recipes';
import type { TableLike } from './table-notebook';

/** Fields that name or document a step rather than change how it trains. */
const NOT_TRAINING = new Set<keyof Recipe>(['step', 'slug', 'change', 'reference']);

/** A number as written in the recipe: 1e-6, 0.01, 4 (no float noise, no trailing zeros). */
function num(value: number): string {
  return Math.abs(value) !== 0 && Math.abs(value) < 1e-3 ? value.toExponential() : String(Number(value.toPrecision(6)));
}

export function describeOptimizer(o: OptimizerSpec): string {
  return o.kind === 'adam'
    ? `adam lr ${num(o.lr)} β ${num(o.beta1)}/${num(o.beta2)} ε ${num(o.eps)}`
    : `adadelta lr ${num(o.lr)} ρ ${num(o.rho)} ε ${num(o.eps)}`;
}

export function describeSchedule(s: ScheduleSpec): string {
  if (s.kind === 'step') return `StepLR ×${num(s.gamma)} every ${s.stepSize === 1 ? 'epoch' : `${s.stepSize} epochs`}`;
  // the start and end rates are named only where they differ from PyTorch's defaults (peak/25, then /1e4)
  const divisors = s.divFactor === 25 && s.finalDivFactor === 1e4 ? '' : `, start peak/${num(s.divFactor)}, end start/${num(s.finalDivFactor)}`;
  return `one-cycle peak ${num(s.maxLr)}, ${num(s.pctStart * 100)}% warm-up, ${s.anneal}${divisors}${s.threePhase ? ', three phases' : ''}`;
}

/** One recipe field's value in words. */
export function describeField(recipe: Recipe, field: keyof Recipe): string {
  switch (field) {
    case 'optimizer':
      return describeOptimizer(recipe.optimizer);
    case 'schedule':
      return describeSchedule(recipe.schedule);
    case 'dataPath':
      return recipe.dataPath === 'device' ? 'device tensors, batches are slices' : 'per-sample dataset + loader';
    case 'shuffle':
      return recipe.shuffle === 'once' ? 'once, when the data is saved' : 'every epoch';
    case 'dropLast':
      return recipe.dropLast ? 'drop the last partial batch' : 'keep the last partial batch';
    case 'epochs':
      return String(recipe.epochs) + (recipe.stopAtAccuracy === null ? ' (fixed)' : ' (at most)');
    case 'stopAtAccuracy':
      return recipe.stopAtAccuracy === null ? 'no early stop' : `stop at ${num(recipe.stopAtAccuracy)}% test accuracy`;
    case 'evaluate':
      return recipe.evaluate === 'end' ? 'once, at the end' : 'after every epoch';
    case 'net':
      return typeof recipe.net === 'string' ? recipe.net : netLabel(recipe.net);
    case 'labelSmoothing':
      return recipe.labelSmoothing === undefined || recipe.labelSmoothing === 0 ? 'none' : num(recipe.labelSmoothing);
    default:
      return String(recipe[field]);
  }
}

/** 'final: c1:24k5q-c2:32k3q-fc:256', or the brief form alone for a net with no ladder name (lib/nets.ts netLabel). */
function netInFull(net: NetRef): string {
  return typeof net === 'string' ? `${net}: ${netLabel(netSpec(net))}` : netLabel(net);
}

/** The fields that say how a recipe trains, in the recipe's own order. */
export function trainingFields(recipe: Recipe): Array<keyof Recipe> {
  return (Object.keys(recipe) as Array<keyof Recipe>).filter((key) => !NOT_TRAINING.has(key));
}

export interface ChangeTable extends TableLike {
  columns: string[];
  values: string[][];
  caption: string;
}

/**
 * Step `step`'s change: for step 1, every field of its recipe; for the others, the fields that
 * differ from step - 1, as [field, step N-1, step N].
 */
export function changeTable(step: number): ChangeTable {
  const recipe = recipeForStep(step);
  if (step === 1) {
    return {
      caption: `step 1: ${recipe.change}`,
      columns: ['field', 'step 1'],
      values: trainingFields(recipe).map((field) => [field, describeField(recipe, field)]),
    };
  }
  const previous = recipeForStep(step - 1);
  const changed = trainingFields(recipe).filter((field) => JSON.stringify(previous[field]) !== JSON.stringify(recipe[field]));
  // a net given as a spec is set beside its neighbour's in the same brief form, its name kept
  const inFull = typeof previous.net !== 'string' || typeof recipe.net !== 'string';
  const describe = (r: Recipe, field: keyof Recipe): string => (field === 'net' && inFull ? netInFull(r.net) : describeField(r, field));
  return {
    caption: `step ${step - 1} -> step ${step}: ${recipe.change}`,
    columns: ['field', `step ${step - 1}`, `step ${step}`],
    values: changed.map((field) => [field, describe(previous, field), describe(recipe, field)]),
  };
}
