/**
 * "Your turn": train a step's recipe with a few fields changed (lib/recipe-overrides.ts), record it
 * apart from the step's own runs (a `tries/` folder of your ledger, the overrides saved in the
 * record), and set it beside the step's unchanged recipe: your own run of it on the same machine,
 * backend and mode when your ledger has one, and the saved reference run (full mode only). Each
 * row says where it ran and whether its seconds compare directly with yours.
 * Used by a notebook's "your turn" cell (tryChange, showTry) and by `mnist-speedrun try`.
 */
import { currentRecipeHashes, newestOfStep, timesBeside, type ComparisonInput } from './comparison';
import { engineDifference } from './engine-id';
import type { MnistArrays } from './data';
import { appendToLedger, newestComparablePerStep, readLedger, referenceLedgerDir, triesLedgerDir, userLedgerDir } from './ledger';
import { measurementOf, measureRecipe, type MeasureOptions, type Measurement } from './measure';
import type { Session } from './notebook';
import { preprocessedCacheFile } from './preprocessed-cache';
import { displayPath } from './project-root';
import { applyOverrides, type AppliedOverrides } from './recipe-overrides';
import { recipeForStep, type Recipe } from './recipes';
import { makeStepRecord, recordMode, summarize, whereLabel, type StepRecord } from './results';
import { MODES, modeRecipe, type RunMode } from './run-mode';
import { formatDuration } from './timing';
import type { RunResult } from './train';

export interface TryResult {
  step: number;
  /** The recipe as trained: the step's, cut to the mode's budget, with the overrides applied. */
  recipe: Recipe;
  /** [field, before, after] of each field that changed (empty: the step's recipe unchanged). */
  changed: Array<[string, string, string]>;
  /** The overrides as given, field -> value text (saved in the record). */
  overrides: Record<string, string>;
  measurement: Measurement;
  record: StepRecord;
  /** Where the record was saved. */
  path: string;
}

/** Step `step`'s recipe cut to `mode`'s budget, then changed by `set` (the user's epochs win over the mode's cap). */
export function tryRecipe(step: number, mode: RunMode, set: Readonly<Record<string, string | number>> | readonly string[]): AppliedOverrides {
  return applyOverrides(modeRecipe(recipeForStep(step), mode), set);
}

/** `seeds` within the mode's seeds cap (the first ones kept). */
export function capSeeds(mode: RunMode, seeds: readonly number[]): number[] {
  const cap = MODES[mode].seeds;
  return cap === null ? [...seeds] : seeds.slice(0, cap);
}

/** Seeds first, first+1, ..., count of them. */
export function seedRange(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}

/** Lines describing the change: each field before -> after, or that the recipe is trained unchanged. */
export function describeChange(step: number, applied: Pick<AppliedOverrides, 'changed' | 'overrides'>): string[] {
  if (Object.keys(applied.overrides).length === 0) return [`no change given: training step ${step}'s recipe unchanged`];
  if (applied.changed.length === 0) return [`every value given is step ${step}'s own: training its recipe unchanged`];
  const width = Math.max(...applied.changed.map(([field]) => field.length));
  return [`step ${step} with your change:`, ...applied.changed.map(([field, before, after]) => `  ${field.padEnd(width)}  ${before}  ->  ${after}`)];
}

export type TryHooks = Pick<MeasureOptions, 'validationCount' | 'measureTest' | 'signal' | 'onRunStart' | 'onBatch' | 'onEpoch' | 'onRunEnd' | 'cacheFile' | 'warmUp'>;

/** Trains `recipe` once per seed (one untimed warm-up first), like measureRecipe but for any list of seeds. */
export async function measureSeeds(recipe: Recipe, data: MnistArrays, seeds: readonly number[], hooks: TryHooks = {}): Promise<Measurement> {
  const results: RunResult[] = [];
  for (const [i, seed] of seeds.entries()) {
    if (hooks.signal?.aborted) break;
    const one = await measureRecipe(recipe, data, {
      ...hooks,
      runs: 1,
      seed,
      warmUp: i === 0 && (hooks.warmUp ?? true),
      onRunStart: hooks.onRunStart && ((_, s) => hooks.onRunStart!(i, s)),
      onBatch: hooks.onBatch && ((_, p) => hooks.onBatch!(i, p)),
      onEpoch: hooks.onEpoch && ((_, r) => hooks.onEpoch!(i, r)),
      onRunEnd: hooks.onRunEnd && ((_, r) => hooks.onRunEnd!(i, r)),
    });
    results.push(...one.results);
    if (one.partial) break;
  }
  return measurementOf(recipe, results, seeds.length);
}

/** One row of the try table. */
export interface TryRow {
  run: string;
  where: string;
  timePerRun: string;
  epochs: string;
  testAccuracy: string;
  reached99: string;
  /** Whether its seconds compare directly with your change's. */
  compares: string;
}

export const TRY_COLUMNS = ['run', 'where', 'time per run', 'epochs', 'test accuracy', 'seeds >= 99%', 'seconds compare'] as const;

function rowOf(run: string, record: StepRecord, compares: string): TryRow {
  const s = summarize(record);
  const spread = (text: string, std: string): string => (s.runs > 1 ? `${text} ± ${std}` : text);
  return {
    run,
    where: `${whereLabel(record)}, ${recordMode(record)} mode, ${record.date.slice(0, 10)}`,
    timePerRun: s.runs === 0 ? 'n/a' : spread(formatDuration(s.secondsMean * 1000), formatDuration(s.secondsStd * 1000)),
    epochs: Number.isInteger(s.epochsMean) ? String(s.epochsMean) : s.epochsMean.toFixed(1),
    testAccuracy: Number.isNaN(s.accuracyMean) ? 'n/a' : spread(`${s.accuracyMean.toFixed(2)}%`, s.accuracyStd.toFixed(3)),
    reached99: `${s.reached99} of ${s.runs}`,
    compares,
  };
}

/** What a try's comparison reads: the same inputs as a step's (lib/comparison.ts). */
export type TryComparisonInput = ComparisonInput;

export interface TryComparison {
  rows: TryRow[];
  /** What is missing and why (no run of the unchanged recipe yet, no reference outside full mode). */
  notes: string[];
}

/** Your change beside the step's unchanged recipe: your run of it (same machine, backend, data and mode) and the saved reference. */
export function tryComparison(input: TryComparisonInput): TryComparison {
  const { record, hashes } = input;
  const step = record.step;
  const mode = recordMode(record);
  const typed = Object.entries(record.overrides ?? {}).map(([field, value]) => `${field}=${value}`).join(' ');
  const rows = [rowOf(typed === '' ? 'your try (no change)' : `your change (${typed})`, record, 'this run')];
  const notes: string[] = [];
  const own = newestComparablePerStep(input.ledger, { like: record, recipeHashes: hashes }).find((r) => r.step === step);
  if (own === undefined) {
    notes.push(`no run of step ${step}'s unchanged recipe on this machine, backend and data in ${mode} mode in ${input.ledgerName}: run it first to set it beside yours`);
  } else {
    const why = engineDifference(record, own);
    rows.push(rowOf(`step ${step} unchanged (your ledger)`, own, why === null ? 'yes: same machine, backend, threads, engine, data and mode' : `not like for like: ${why}`));
  }
  if (mode !== 'full') {
    notes.push(`(${mode} mode: the saved reference runs are full runs, so none is set beside this one)`);
  } else if (input.reference !== null) {
    const saved = newestOfStep(input.reference, step, hashes);
    if (saved === null) notes.push(`(no saved reference run of step ${step} with today's recipe in ${input.referenceName})`);
    else rows.push(rowOf(`step ${step} unchanged (saved reference)`, saved, savedCompares(saved, record)));
  }
  return { rows, notes };
}

/** The try table's 'compares' cell for the saved reference run of the step. */
function savedCompares(saved: StepRecord, record: StepRecord): string {
  const beside = timesBeside(record, saved);
  if (!beside.sameSetting) return 'no: another machine or setting; compare ratios, not seconds';
  return beside.engineDifference === null ? 'yes: same machine, backend, threads and engine' : `no: ${beside.engineDifference}`;
}

/** The try table as plain text, columns padded to line up, with its notes under it. */
export function formatTryTable(comparison: TryComparison): string {
  const cells = comparison.rows.map((r) => [r.run, r.where, r.timePerRun, r.epochs, r.testAccuracy, r.reached99, r.compares]);
  const all = [Array.from(TRY_COLUMNS), ...cells];
  const widths = TRY_COLUMNS.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: readonly string[]): string => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(all[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line), ...comparison.notes].join('\n');
}

/** Reads a ledger, printing one line for each file that was skipped. */
async function readReporting(dir: string, warn: (line: string) => void): Promise<StepRecord[]> {
  const { records, problems } = await readLedger(dir);
  for (const problem of problems) warn(problem);
  return records;
}

/** The comparison of a try recorded in mode `mode`, read from your ledger of that mode and the saved reference. */
export async function compareTry(record: StepRecord, options: { ledgerDir: string; withReference: boolean; warn?: (line: string) => void }): Promise<TryComparison> {
  const warn = options.warn ?? ((line: string) => console.warn(line));
  return tryComparison({
    record,
    ledger: await readReporting(options.ledgerDir, warn),
    ledgerName: displayPath(options.ledgerDir),
    reference: options.withReference ? await readReporting(referenceLedgerDir(), warn) : null,
    referenceName: displayPath(referenceLedgerDir()),
    hashes: currentRecipeHashes(recordMode(record)),
  });
}

export interface TryOptions {
  /** Train seeds 1..runs (default 1) ... */
  runs?: number;
  /** ... or exactly these seeds. Either is cut to the mode's seeds cap. */
  seeds?: number[];
}

/**
 * Trains step `step`'s recipe (cut to the session's mode) with `set` changed, over the seeds asked
 * for, records it in the `tries/` folder of your ledger (never the reference) and returns it.
 * An empty `set` trains the recipe unchanged, and says so.
 */
export async function tryChange(session: Session, step: number, set: Readonly<Record<string, string | number>>, options: TryOptions = {}): Promise<TryResult> {
  const applied = tryRecipe(step, session.mode, set);
  for (const line of describeChange(step, applied)) console.log(line);
  const wanted = options.seeds ?? seedRange(1, options.runs ?? 1);
  const seeds = capSeeds(session.mode, wanted);
  if (seeds.length < wanted.length) console.log(`${session.mode} mode: ${seeds.length} seed${seeds.length === 1 ? '' : 's'} of the ${wanted.length} asked for`);
  const measurement = await measureSeeds(applied.recipe, session.data, seeds, {
    // a subset must not replace the full dataset's cache file
    cacheFile: session.mode === 'full' ? preprocessedCacheFile() : undefined,
    onEpoch: (_, r) =>
      console.log(`seed ${seeds[_]} epoch ${r.epoch}: train loss ${r.trainLoss.toFixed(4)}` + (r.evalAccuracy === null ? '' : `, test accuracy ${r.evalAccuracy.toFixed(2)}%`)),
  });
  console.log(measurement.timing);
  const record = makeStepRecord(applied.recipe, measurement.results, {
    backend: session.backend,
    machine: session.machine,
    source: 'notebook',
    mode: session.mode,
    overrides: applied.overrides,
    dataHash: session.dataHash,
  });
  const path = await appendToLedger(record, triesLedgerDir(userLedgerDir(session.mode)));
  console.log(`recorded in ${displayPath(path)} (a try: never compared as step ${step}'s own recipe)`);
  return { step, recipe: applied.recipe, changed: applied.changed, overrides: applied.overrides, measurement, record, path };
}
