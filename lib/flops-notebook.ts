/**
 * Where a training step's arithmetic goes, layer by layer, for steps side by side: the FLOPs per
 * training image (lib/flops.ts) of each layer's forward pass, input gradient and weight gradient,
 * counted from each step's net spec. Shown as a table (HTML in a notebook, text elsewhere) with
 * the ratio of the last step's total to the first's.
 */
import { layerFlopsPerImage, type LayerFlops } from './flops';
import { recipeForStep } from './recipes';
import { show } from './table-notebook';
import type { TableLike } from './text-table';

export interface FlopsTable extends TableLike {
  columns: string[];
  /** One row per layer, then the total: the layer's name, then MFLOP per image (a number, or '' where a step has no such layer). */
  values: Array<Array<string | number>>;
  /** The last step's total FLOPs over the first's. */
  ratio: number;
  caption: string;
}

const PASSES = [
  ['forward', 'forward'],
  ['inputGradient', 'input grad'],
  ['weightGradient', 'weight grad'],
] as const;

function mflop(flops: number): number {
  return Math.round(flops / 1e3) / 1e3;
}

function total(layers: readonly LayerFlops[]): number {
  return layers.reduce((sum, l) => sum + l.forward + l.inputGradient + l.weightGradient, 0);
}

/** The table of `steps` (at least one): MFLOP per training image of each layer and pass, and the total. */
export function flopsTable(steps: readonly number[]): FlopsTable {
  if (steps.length === 0) throw new RangeError('flopsTable needs at least one step, e.g. flopsTable([8, 9])');
  const perStep = steps.map((step) => layerFlopsPerImage(recipeForStep(step).net));
  const layers = [...new Set(perStep.flatMap((ls) => ls.map((l) => l.layer)))];
  const columns = ['layer', ...steps.flatMap((step) => [...PASSES.map(([, label]) => `step ${step} ${label}`), `step ${step} total`])];
  const values: Array<Array<string | number>> = layers.map((name) => [
    name,
    ...perStep.flatMap((ls): Array<string | number> => {
      const l = ls.find((x) => x.layer === name);
      return l === undefined ? ['', '', '', ''] : [...PASSES.map(([field]) => mflop(l[field])), mflop(l.forward + l.inputGradient + l.weightGradient)];
    }),
  ]);
  const totals = perStep.map(total);
  values.push([
    'total',
    ...perStep.flatMap((ls) => [...PASSES.map(([field]) => mflop(ls.reduce((sum, l) => sum + l[field], 0))), mflop(total(ls))]),
  ]);
  const ratio = totals[totals.length - 1]! / totals[0]!;
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const caption =
    steps.length === 1
      ? `MFLOP per training image, step ${first}`
      : `MFLOP per training image: step ${last} needs ${ratio.toFixed(2)}x the arithmetic of step ${first} ` +
        `(${mflop(totals[totals.length - 1]!)} against ${mflop(totals[0]!)})`;
  return { columns, values, ratio, caption };
}

/** Shows flopsTable(steps) under its caption: an HTML table in a notebook, aligned text elsewhere. */
export function showFlops(steps: readonly number[]): void {
  const table = flopsTable(steps);
  show(table, table.caption);
}
