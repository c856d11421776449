/**
 * Results as rows that line up with the reference table: a step's runs summarised as mean ± std,
 * one row format shared by the CLI, the benchmark and the notebooks.
 */
import { recipeHash } from './fingerprint';
import { currentLoadAverage, machineKey, machineLabel, type MachineInfo } from './machine';
import type { Recipe, Reference } from './recipes';
import type { RunMode } from './run-mode';
import type { RunResult } from './train';
import { formatDuration, mean, std } from './timing';

/** One finished run, as recorded (the per-batch arrays of RunResult are left out). */
export interface RunRecord {
  seed: number;
  seconds: number;
  epochs: number;
  testAccuracy: number | null;
  validationAccuracy: number | null;
  partial: boolean;
}

/** Which sweep, variant and validation split a sweep's record belongs to. */
export interface SweepTag {
  name: string;
  variant: string;
  validation: number;
}

/** Who made a record. */
export type RecordSource = 'cli' | 'notebook' | 'bench';

/**
 * A ledger entry: one step run n times on one backend and machine, with everything that decides
 * whether two records may be compared: machine, backend and threads, recipe and data hashes,
 * the run mode, and the versions and load they ran under.
 */
export interface StepRecord {
  kind: 'step-result';
  version: 2;
  step: number;
  slug: string;
  change: string;
  /** lib/fingerprint.ts recipeHash of the recipe as trained (quick cuts included). */
  recipeHash: string;
  /** lib/fingerprint.ts dataHash of the training and test data used. */
  dataHash: string;
  backend: string;
  device: string;
  /**
   * The backend in words, as describeBackend prints it: for wasm, which build of the native kernels
   * ran (relaxed SIMD with fused multiply-add, or plain SIMD). Absent from records made before it.
   */
  backendLabel?: string;
  /** Worker threads the backend used, where it says (wasm); null elsewhere. */
  threads: number | null;
  /**
   * Which build of the engine ran (lib/engine-id.ts): on wasm the kernel set, the native module's
   * SHA-256 and XNNPACK's pool; everywhere the engine revision. Absent from records made before it.
   */
  engine?: string;
  /** CPU, cores, memory, platform, Node and TensorFlow.js versions, and the load when recorded. */
  machine: MachineInfo;
  /** ISO time the record was made. */
  date: string;
  source: RecordSource;
  /** Made in quick mode (the same as mode 'quick'; kept so that older readers still tell it apart). */
  quick: boolean;
  /**
   * The run mode (lib/run-mode.ts): records are compared only with records of the same mode.
   * Absent from records made before workshop mode: read as 'quick' when `quick`, else 'full'.
   */
  mode?: RunMode;
  /**
   * A "your turn" try: the recipe fields changed from the step's recipe, as typed ('batchSize': '512').
   * Such a record is never the step's recipe, so it never enters the step's comparisons or ladder.
   */
  overrides?: Record<string, string>;
  /**
   * A sweep's run (lib/sweep.ts): the sweep's name, the variant's id (what a rerun of the sweep
   * matches to skip it) and the validation images held out. Such a record always carries overrides.
   */
  sweep?: SweepTag;
  /** Some run was interrupted: numbers cover only what finished. */
  partial: boolean;
  runs: RunRecord[];
  /** The original's numbers for the step; null for a step the original does not have (step 9). */
  reference: Reference | null;
}

export function toRunRecord(result: RunResult): RunRecord {
  return {
    seed: result.seed,
    seconds: result.seconds,
    epochs: result.epochs,
    testAccuracy: result.testAccuracy,
    validationAccuracy: result.validationAccuracy,
    partial: result.partial,
  };
}

export interface StepRecordContext {
  backend: { name: string; label?: string; device: string; threads?: number; engine?: string };
  machine: MachineInfo;
  source: RecordSource;
  mode: RunMode;
  /** The overrides of a try (lib/recipe-overrides.ts), saved in the record. */
  overrides?: Record<string, string>;
  /** A sweep's run: its sweep, variant id and validation split, saved in the record. */
  sweep?: SweepTag;
  /** dataHash of the data the runs trained on. */
  dataHash: string;
  date?: Date;
}

/** The record of `results`; the load average is read now, at the end of the runs it describes. */
export function makeStepRecord(recipe: Recipe, results: readonly RunResult[], context: StepRecordContext): StepRecord {
  return {
    kind: 'step-result',
    version: 2,
    step: recipe.step,
    slug: recipe.slug,
    change: recipe.change,
    recipeHash: recipeHash(recipe),
    dataHash: context.dataHash,
    backend: context.backend.name,
    device: context.backend.device,
    ...(context.backend.label === undefined ? {} : { backendLabel: context.backend.label }),
    threads: context.backend.threads ?? null,
    ...(context.backend.engine === undefined ? {} : { engine: context.backend.engine }),
    machine: { ...context.machine, loadAverage: currentLoadAverage() },
    date: (context.date ?? new Date()).toISOString(),
    source: context.source,
    quick: context.mode === 'quick',
    mode: context.mode,
    ...(context.overrides === undefined ? {} : { overrides: { ...context.overrides } }),
    ...(context.sweep === undefined ? {} : { sweep: { ...context.sweep } }),
    partial: results.some((r) => r.partial),
    runs: results.map(toRunRecord),
    reference: recipe.reference,
  };
}

/** The run mode of a record; one made before modes existed is 'quick' when marked quick, else 'full'. */
export function recordMode(record: Pick<StepRecord, 'quick' | 'mode'>): RunMode {
  return record.mode ?? (record.quick ? 'quick' : 'full');
}

/** What comparisonKey reads of a record (or of a session describing where it runs). */
export type ComparableFields = Pick<StepRecord, 'machine' | 'backend' | 'threads' | 'dataHash' | 'quick' | 'mode'>;

/**
 * What makes two records comparable: the same machine, backend, thread count, data and mode.
 * The recipe is compared per step (each step has its own recipe hash).
 */
export function comparisonKey(record: ComparableFields): string {
  return [machineKey(record.machine), record.backend, String(record.threads), record.dataHash, recordMode(record)].join('|');
}

/** 'wasm, 2 threads, on AMD EPYC, 2 cores, 24 GiB, linux-x64': where a record ran, in words. */
export function whereLabel(record: Pick<StepRecord, 'machine' | 'backend' | 'threads'>): string {
  const threads = record.threads === null ? '' : `, ${record.threads} thread${record.threads === 1 ? '' : 's'}`;
  return `${record.backend}${threads}, on ${machineLabel(record.machine)}`;
}

export interface StepSummary {
  step: number;
  change: string;
  runs: number;
  secondsMean: number;
  secondsStd: number;
  epochsMean: number;
  accuracyMean: number;
  accuracyStd: number;
  /** Finished runs whose test accuracy reached 99%. */
  reached99: number;
  partial: boolean;
}

/** A record's numbers over its finished runs only: an interrupted run is recorded, never averaged. */
export function summarize(record: Pick<StepRecord, 'step' | 'change' | 'runs' | 'partial'>): StepSummary {
  const finished = record.runs.filter((r) => !r.partial);
  const seconds = finished.map((r) => r.seconds);
  const accuracies = finished.map((r) => r.testAccuracy).filter((a): a is number => a !== null);
  return {
    step: record.step,
    change: record.change,
    runs: finished.length,
    secondsMean: mean(seconds),
    secondsStd: std(seconds),
    epochsMean: mean(finished.map((r) => r.epochs)),
    accuracyMean: mean(accuracies),
    accuracyStd: std(accuracies),
    reached99: accuracies.filter((a) => a >= 99).length,
    partial: record.partial,
  };
}

const COLUMNS = ['step', 'change', 'time (mean ± std)', 'epochs', 'test acc % (mean ± std)', 'runs', 'speed-up'] as const;

/** Table cells of one summary; speed-up is relative to `firstSeconds` (the first step run). */
export function summaryCells(summary: StepSummary, firstSeconds: number): string[] {
  const accuracy = Number.isNaN(summary.accuracyMean)
    ? 'n/a'
    : summary.runs === 1
      ? summary.accuracyMean.toFixed(2)
      : `${summary.accuracyMean.toFixed(2)} ± ${summary.accuracyStd.toFixed(2)}`;
  return [
    String(summary.step).padStart(2, '0') + (summary.partial ? '*' : ''),
    summary.change,
    summary.runs === 1
      ? formatDuration(summary.secondsMean * 1000)
      : `${formatDuration(summary.secondsMean * 1000)} ± ${formatDuration(summary.secondsStd * 1000)}`,
    Number.isInteger(summary.epochsMean) ? String(summary.epochsMean) : summary.epochsMean.toFixed(1),
    accuracy,
    String(summary.runs),
    `${(firstSeconds / summary.secondsMean).toFixed(1)}x`,
  ];
}

/** A plain-text table, columns padded to line up; '*' marks partial (interrupted) rows. */
export function formatSummaryTable(summaries: readonly StepSummary[]): string {
  if (summaries.length === 0) return '(no results)';
  const firstSeconds = summaries[0]!.secondsMean;
  const rows = [Array.from(COLUMNS), ...summaries.map((s) => summaryCells(s, firstSeconds))];
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  const lines = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  if (summaries.some((s) => s.partial)) lines.push('* interrupted: partial result');
  return lines.join('\n');
}

/** The line `--json` prints for each finished run. */
export function runJsonLine(result: RunResult): string {
  return JSON.stringify({
    step: result.step,
    backend: result.backend,
    seconds: Number(result.seconds.toFixed(4)),
    epochs: result.epochs,
    testAccuracy: result.testAccuracy === null ? null : Number(result.testAccuracy.toFixed(3)),
    seed: result.seed,
    partial: result.partial,
  });
}
