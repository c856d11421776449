/**
 * Sweeps: a small grid of recipe changes (lib/recipe-overrides.ts) from one step, each variant
 * trained over several seeds and judged on a validation split held out of the training set; the
 * test set is never evaluated by a sweep. This file holds the pure parts: the grid file's format,
 * the variants and their ids, what is already recorded, and the table.
 *
 * Grid file (JSON), a product or an explicit list:
 *   { "from": 8, "seeds": 5, "set": { "batchSize": [256, 512], "schedule.maxLr": [0.01, 0.02] }, "fixed": { "net": "slim" } }
 *   { "from": 8, "seeds": 5, "variants": [ { "batchSize": 512 }, { "net.c2.out": 24 } ] }
 * with an optional "validation": N (images held out; default 5,000, 512 in quick mode).
 */
import { createHash } from 'node:crypto';
import { basename, extname, join } from 'node:path';
import { canonicalJson, recipeHash } from './fingerprint';
import { UsageError } from './errors';
import type { Recipe } from './recipes';
import { RECIPES } from './recipes';
import { comparisonKey, whereLabel, type StepRecord } from './results';
import { MODES, type RunMode } from './run-mode';
import type { TableLike } from './text-table';
import { formatDuration, mean, std } from './timing';
import { capSeeds, seedRange, tryRecipe } from './your-turn';

type Scalar = string | number | boolean;

export interface SweepGrid {
  from: number;
  seeds: number;
  /** Images held out of the training set; null: the mode's default (sweepValidation). */
  validation: number | null;
  /** Each variant's changes as field -> value text, in the file's order. */
  variants: Array<Record<string, string>>;
}

export interface SweepVariant {
  /** 1-based position in the grid. */
  index: number;
  overrides: Record<string, string>;
  /** 'batchSize=512 schedule.maxLr=0.02', or '(step N unchanged)'. */
  label: string;
  /** The step's recipe cut to the mode, with the overrides applied. */
  recipe: Recipe;
  /** Stable id: what a rerun matches to skip runs already recorded. */
  id: string;
}

const GRID_KEYS = ['from', 'seeds', 'validation', 'set', 'fixed', 'variants'];
const MAX_SEEDS = 1000;
/** Held-out images when the grid names none; quick mode trains on too few images for 5,000. */
export const DEFAULT_VALIDATION = 5000;
const QUICK_VALIDATION = 512;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueText(where: string, field: string, value: unknown): string {
  if (typeof value === 'string' || typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (value === null) return 'none';
  throw new UsageError(`${where}: ${field} must be a number, text or true/false, got ${JSON.stringify(value)}`);
}

function wholeNumber(where: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${where}: "${name}" must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function scalars(where: string, value: unknown, what: string): Record<string, string> {
  if (!isObject(value)) throw new UsageError(`${where}: ${what} must be an object of field: value, got ${JSON.stringify(value)}`);
  return Object.fromEntries(Object.entries(value).map(([field, v]) => [field, valueText(where, field, v)]));
}

/** The cartesian product of `set` (first field varies slowest), each with `fixed` added. */
function product(where: string, set: Record<string, unknown>, fixed: Record<string, string>): Array<Record<string, string>> {
  let variants: Array<Record<string, string>> = [{ ...fixed }];
  for (const [field, values] of Object.entries(set)) {
    if (field in fixed) throw new UsageError(`${where}: ${field} is both in "set" and in "fixed": give it in one of them`);
    if (!Array.isArray(values) || values.length === 0) {
      throw new UsageError(`${where}: "set" field ${field} needs a non-empty list of values, such as [256, 512], got ${JSON.stringify(values)}`);
    }
    const texts = values.map((v: Scalar) => valueText(where, field, v));
    variants = variants.flatMap((variant) => texts.map((text) => ({ ...variant, [field]: text })));
  }
  return variants;
}

/** Checks a grid file's parsed JSON; `where` names it in every refusal (the file's path). */
export function parseSweepGrid(value: unknown, where: string): SweepGrid {
  if (!isObject(value)) throw new UsageError(`${where}: a sweep grid is a JSON object with "from", "seeds" and "set" or "variants"`);
  const unknown = Object.keys(value).find((key) => !GRID_KEYS.includes(key));
  if (unknown !== undefined) throw new UsageError(`${where}: unknown key "${unknown}": a grid has ${GRID_KEYS.map((k) => `"${k}"`).join(', ')}`);
  const from = wholeNumber(where, 'from', value.from, 1, RECIPES.length);
  const seeds = value.seeds === undefined ? 1 : wholeNumber(where, 'seeds', value.seeds, 1, MAX_SEEDS);
  const validation = value.validation === undefined ? null : wholeNumber(where, 'validation', value.validation, 1, 59_999);
  const hasSet = value.set !== undefined;
  const hasList = value.variants !== undefined;
  if (hasSet === hasList) throw new UsageError(`${where}: give either "set" (a grid of values) or "variants" (a list of changes), ${hasSet ? 'not both' : 'one of them'}`);
  let variants: Array<Record<string, string>>;
  if (hasSet) {
    if (!isObject(value.set) || Object.keys(value.set).length === 0) {
      throw new UsageError(`${where}: "set" must be an object of field: [values], such as {"batchSize": [256, 512]}`);
    }
    variants = product(where, value.set, value.fixed === undefined ? {} : scalars(where, value.fixed, '"fixed"'));
  } else {
    if (value.fixed !== undefined) throw new UsageError(`${where}: "fixed" goes with "set"; in a "variants" list write the field in each variant`);
    if (!Array.isArray(value.variants) || value.variants.length === 0) throw new UsageError(`${where}: "variants" must be a non-empty list of objects of field: value`);
    variants = value.variants.map((v: unknown, i: number) => scalars(where, v, `variant ${i + 1}`));
  }
  return { from, seeds, validation, variants };
}

/** 'batchSize=512 schedule.maxLr=0.02' ('(step N unchanged)' when empty). */
export function overridesLabel(overrides: Readonly<Record<string, string>>, step: number): string {
  const text = Object.entries(overrides).map(([field, value]) => `${field}=${value}`).join(' ');
  return text === '' ? `(step ${step} unchanged)` : text;
}

/** Images held out in `mode`: the grid's, else 5,000 (512 in quick mode); refused when it leaves too few to train on. */
export function sweepValidation(grid: Pick<SweepGrid, 'validation'>, mode: RunMode, where: string): number {
  const trainImages = MODES[mode].trainCount ?? 60_000;
  const count = grid.validation ?? (mode === 'quick' ? QUICK_VALIDATION : DEFAULT_VALIDATION);
  if (count >= trainImages) {
    throw new UsageError(`${where}: "validation": ${count} leaves nothing to train on: ${mode} mode trains on ${trainImages.toLocaleString('en-US')} images; give fewer`);
  }
  return count;
}

/** The id of a variant: a hash of step, sorted overrides, mode, validation split and the recipe as trained. */
export function variantId(step: number, overrides: Readonly<Record<string, string>>, mode: RunMode, validation: number, recipe: Recipe): string {
  const sorted = Object.fromEntries(Object.entries(overrides).sort(([a], [b]) => a.localeCompare(b)));
  const key = canonicalJson({ step, overrides: sorted, mode, validation, recipe: recipeHash(recipe) });
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/**
 * Every variant applied to the step's recipe (cut to `mode`) now, before anything trains: a bad
 * field or value refuses the whole grid, naming the variant; so does a variant given twice.
 */
export function sweepVariants(grid: SweepGrid, mode: RunMode, where: string): SweepVariant[] {
  const validation = sweepValidation(grid, mode, where);
  const seen = new Map<string, number>();
  return grid.variants.map((overrides, i) => {
    const label = overridesLabel(overrides, grid.from);
    let recipe: Recipe;
    try {
      recipe = tryRecipe(grid.from, mode, overrides).recipe;
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${where}: variant ${i + 1} (${label}): ${error.message}`);
      throw error;
    }
    const id = variantId(grid.from, overrides, mode, validation, recipe);
    const twin = seen.get(id);
    if (twin !== undefined) throw new UsageError(`${where}: variant ${i + 1} (${label}) is the same as variant ${twin}: give each variant once`);
    seen.set(id, i + 1);
    return { index: i + 1, overrides, label, recipe, id };
  });
}

/** The seeds each variant trains: 1..`seeds` (the grid's, or the one asked for instead), within the mode's cap. */
export function sweepSeeds(mode: RunMode, seeds: number): number[] {
  return capSeeds(mode, seedRange(1, seeds));
}

/**
 * One line when the sweep's recorded runs come from more than one machine, backend, thread count
 * or data (their seconds do not compare), else null.
 */
export function mixedSettingsNote(variants: readonly SweepVariant[], records: readonly StepRecord[]): string | null {
  const ids = new Set(variants.map((v) => v.id));
  const settings = new Map<string, string>();
  for (const record of records) if (record.sweep !== undefined && ids.has(record.sweep.variant)) settings.set(comparisonKey(record), whereLabel(record));
  if (settings.size < 2) return null;
  return `the recorded runs come from ${settings.size} settings (${[...settings.values()].join('; ')}): their times do not compare; give --name NAME to start a separate sweep here`;
}

/** The sweep's name: `--name`, else the grid file's base name without its extension. */
export function sweepName(gridPath: string, name?: string): string {
  const chosen = name ?? basename(gridPath, extname(gridPath));
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(chosen)) {
    throw new UsageError(`sweep name '${chosen}' must be letters, digits, '.', '_' or '-' (a folder name): give --name NAME`);
  }
  return chosen;
}

/** Where a sweep's runs are recorded: `<mode ledger>/sweeps/<name>/`, one record per (variant, seed). */
export function sweepLedgerDir(modeLedgerDir: string, name: string): string {
  return join(modeLedgerDir, 'sweeps', name);
}

/** Where a sweep's table is saved beside its records (outside the records' folder, which holds only records). */
export function sweepTableFile(modeLedgerDir: string, name: string): string {
  return join(modeLedgerDir, 'sweeps', `${name}.table.json`);
}

export interface PlannedRun {
  variant: SweepVariant;
  seed: number;
}

function runKey(id: string, seed: number): string {
  return `${id}#${seed}`;
}

/** The (variant id, seed) pairs already recorded by finished runs. */
export function recordedRuns(records: readonly StepRecord[]): Set<string> {
  const keys = new Set<string>();
  for (const record of records) {
    if (record.sweep === undefined) continue;
    for (const run of record.runs) if (!run.partial) keys.add(runKey(record.sweep.variant, run.seed));
  }
  return keys;
}

/** Every (variant, seed) of the sweep, variant by variant, and those of them not yet recorded. */
export function planSweep(variants: readonly SweepVariant[], seeds: readonly number[], records: readonly StepRecord[]): { all: PlannedRun[]; pending: PlannedRun[] } {
  const done = recordedRuns(records);
  const all = variants.flatMap((variant) => seeds.map((seed) => ({ variant, seed })));
  return { all, pending: all.filter((run) => !done.has(runKey(run.variant.id, run.seed))) };
}

/** Seconds left, from the mean of the finished runs' wall time; null before any finished. */
export function etaSeconds(elapsedSeconds: number, finished: number, remaining: number): number | null {
  return finished === 0 ? null : (elapsedSeconds / finished) * remaining;
}

export interface SweepRow {
  variant: string;
  id: string;
  runs: number;
  secondsMean: number;
  secondsStd: number;
  /** Validation accuracy, percent. */
  accuracyMean: number;
  accuracyStd: number;
  /** Runs whose validation accuracy reached 99%. */
  reached99: number;
}

/** One row per variant over its recorded finished runs of `seeds` (first record of a seed wins). */
export function sweepRows(variants: readonly SweepVariant[], seeds: readonly number[], records: readonly StepRecord[]): SweepRow[] {
  return variants.map((variant) => {
    const bySeed = new Map<number, { seconds: number; accuracy: number | null }>();
    for (const record of records) {
      if (record.sweep?.variant !== variant.id) continue;
      for (const run of record.runs) {
        if (!run.partial && seeds.includes(run.seed) && !bySeed.has(run.seed)) bySeed.set(run.seed, { seconds: run.seconds, accuracy: run.validationAccuracy });
      }
    }
    const runs = [...bySeed.values()];
    const accuracies = runs.map((r) => r.accuracy).filter((a): a is number => a !== null);
    const seconds = runs.map((r) => r.seconds);
    return {
      variant: variant.label,
      id: variant.id,
      runs: runs.length,
      secondsMean: mean(seconds),
      secondsStd: std(seconds),
      accuracyMean: mean(accuracies),
      accuracyStd: std(accuracies),
      reached99: accuracies.filter((a) => a >= 99).length,
    };
  });
}

/** True when the row's mean validation accuracy reaches 99%. */
export function reachesTarget(row: Pick<SweepRow, 'runs' | 'accuracyMean'>): boolean {
  return row.runs > 0 && row.accuracyMean >= 99;
}

/** Variants whose mean reaches 99% first, fastest first; then the rest, most accurate first; variants with no run last. */
export function sortSweepRows(rows: readonly SweepRow[]): SweepRow[] {
  const rank = (row: SweepRow): number => (reachesTarget(row) ? 0 : row.runs > 0 ? 1 : 2);
  return [...rows].sort((a, b) => {
    const byRank = rank(a) - rank(b);
    if (byRank !== 0) return byRank;
    if (rank(a) === 0) return a.secondsMean - b.secondsMean;
    if (rank(a) === 1) return b.accuracyMean - a.accuracyMean;
    return 0;
  });
}

export const SWEEP_COLUMNS = ['variant', 'runs', 'time per run (mean ± std)', 'validation acc % (mean ± std)', 'seeds >= 99%', ''] as const;

/** The table's cells of one row, the last cell marking a variant below 99%. */
export function sweepCells(row: SweepRow): string[] {
  if (row.runs === 0) return [row.variant, '0', 'n/a', 'n/a', 'n/a', 'not run yet'];
  const time = `${formatDuration(row.secondsMean * 1000)} ± ${formatDuration(row.secondsStd * 1000)}`;
  const accuracy = Number.isNaN(row.accuracyMean) ? 'n/a' : `${row.accuracyMean.toFixed(2)} ± ${row.accuracyStd.toFixed(2)}`;
  return [row.variant, String(row.runs), time, accuracy, `${row.reached99} of ${row.runs}`, reachesTarget(row) ? '' : 'below 99%'];
}

/** The sorted rows as a TableLike (lib/table-notebook.ts show). */
export function sweepTableLike(rows: readonly SweepRow[]): TableLike {
  return { columns: SWEEP_COLUMNS, values: sortSweepRows(rows).map(sweepCells) };
}
