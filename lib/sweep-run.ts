/**
 * Running a sweep (lib/sweep.ts): each (variant, seed) not yet recorded is trained on the training
 * set minus the validation split, judged on that split (the test set is never evaluated), and
 * recorded at once as its own record in `<mode ledger>/sweeps/<name>/`; a rerun skips what is
 * recorded. Used by `mnist-speedrun sweep` and by notebooks (runSweep, sweepTable).
 */
import { readFile } from 'node:fs/promises';
import type { MnistArrays } from './data';
import { UsageError } from './errors';
import { appendToLedger, isReferenceRecording, readLedger, REFERENCE_ENV_VAR, userLedgerDir } from './ledger';
import type { MachineInfo } from './machine';
import type { Session } from './notebook';
import { displayPath } from './project-root';
import { makeStepRecord, type RecordSource, type StepRecord } from './results';
import type { RunMode } from './run-mode';
import { writeFileAtomic } from './atomic-file';
import {
  parseSweepGrid,
  planSweep,
  sortSweepRows,
  sweepLedgerDir,
  mixedSettingsNote,
  sweepName,
  sweepRows,
  sweepSeeds,
  sweepTableFile,
  sweepTableLike,
  sweepValidation,
  sweepVariants,
  type PlannedRun,
  type SweepGrid,
  type SweepRow,
  type SweepVariant,
} from './sweep';
import { sweepWhere } from './sweep-where';
import type { TableLike } from './text-table';
import { measureSeeds, type TryHooks } from './your-turn';
import type { BatchProgress, EpochRecord, RunResult } from './train';

/** Reads and checks a grid file; a missing file or bad JSON is refused naming the path. */
export async function readSweepGrid(path: string): Promise<SweepGrid> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the sweep grid ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; give the path of a JSON grid file`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseSweepGrid(parsed, path);
}

/** A sweep ready to run: its variants checked, its seeds, split and folders settled. */
export interface SweepPlan {
  name: string;
  mode: RunMode;
  step: number;
  variants: SweepVariant[];
  seeds: number[];
  validation: number;
  /** Where its records go (and are read from to resume). */
  dir: string;
  tableFile: string;
}

/** Settles a sweep before anything trains; every variant is checked now. `seeds` replaces the grid's count. */
export function planOf(grid: SweepGrid, options: { where: string; name: string; mode: RunMode; modeLedgerDir: string; seeds?: number }): SweepPlan {
  if (isReferenceRecording()) throw new UsageError(`a sweep records your own runs, never reference results: unset ${REFERENCE_ENV_VAR} to run it`);
  return {
    name: options.name,
    mode: options.mode,
    step: grid.from,
    variants: sweepVariants(grid, options.mode, options.where),
    seeds: sweepSeeds(options.mode, options.seeds ?? grid.seeds),
    validation: sweepValidation(grid, options.mode, options.where),
    dir: sweepLedgerDir(options.modeLedgerDir, options.name),
    tableFile: sweepTableFile(options.modeLedgerDir, options.name),
  };
}

/** The sweep's records, one line per skipped file through `warn`. */
export async function sweepRecords(plan: Pick<SweepPlan, 'dir'>, warn: (line: string) => void): Promise<StepRecord[]> {
  const { records, problems } = await readLedger(plan.dir);
  for (const problem of problems) warn(problem);
  return records;
}

export interface SweepContext {
  data: MnistArrays;
  backend: { name: string; label?: string; device: string; threads?: number; engine?: string };
  machine: MachineInfo;
  dataHash: string;
  source: RecordSource;
}

export interface SweepHooks extends Pick<TryHooks, 'signal'> {
  onBatch?: (progress: BatchProgress) => void;
  onEpoch?: (record: EpochRecord) => void;
  /** Skip the untimed warm-up before each variant's first run (default false). */
  noWarmUp?: boolean;
  /** A run starts: its place in the sweep (`done` runs of `total` finished or recorded before it). */
  onRunStart?: (run: PlannedRun, done: number, total: number) => void;
  onRunEnd?: (run: PlannedRun, result: RunResult, path: string | null) => void;
}

/** Trains the pending runs of `plan`, recording each finished one at once; stops when `signal` aborts. Returns how many were recorded. */
export async function trainSweep(plan: SweepPlan, pending: readonly PlannedRun[], alreadyDone: number, context: SweepContext, hooks: SweepHooks = {}): Promise<number> {
  const total = plan.variants.length * plan.seeds.length;
  let recorded = 0;
  let warmed: string | null = null;
  for (const run of pending) {
    if (hooks.signal?.aborted) break;
    hooks.onRunStart?.(run, alreadyDone + recorded, total);
    const measurement = await measureSeeds(run.variant.recipe, context.data, [run.seed], {
      validationCount: plan.validation,
      measureTest: false,
      // one warm-up per variant: its batch size and net decide the kernels' shapes
      warmUp: !hooks.noWarmUp && warmed !== run.variant.id,
      signal: hooks.signal,
      onBatch: hooks.onBatch && ((_, p) => hooks.onBatch!(p)),
      onEpoch: hooks.onEpoch && ((_, r) => hooks.onEpoch!(r)),
    });
    warmed = run.variant.id;
    const result = measurement.results[0];
    if (result === undefined) break;
    if (result.partial) {
      hooks.onRunEnd?.(run, result, null);
      break;
    }
    const record = makeStepRecord(run.variant.recipe, [result], {
      backend: context.backend,
      machine: context.machine,
      source: context.source,
      mode: plan.mode,
      overrides: run.variant.overrides,
      sweep: { name: plan.name, variant: run.variant.id, validation: plan.validation },
      dataHash: context.dataHash,
    });
    const path = await appendToLedger(record, plan.dir);
    recorded++;
    hooks.onRunEnd?.(run, result, path);
  }
  return recorded;
}

/** The table's rows from what is recorded, sorted (lib/sweep.ts sortSweepRows). */
export function sweepTableRows(plan: SweepPlan, records: readonly StepRecord[], warn?: (line: string) => void): SweepRow[] {
  const note = mixedSettingsNote(plan.variants, records);
  if (note !== null) warn?.(note);
  return sortSweepRows(sweepRows(plan.variants, plan.seeds, records));
}

/** Saves the sorted rows as JSON beside the sweep's records, for a notebook to show later; returns the path. */
export async function saveSweepTable(plan: SweepPlan, rows: readonly SweepRow[], records: readonly StepRecord[]): Promise<string> {
  const saved = {
    kind: 'sweep-table',
    name: plan.name,
    mode: plan.mode,
    step: plan.step,
    seeds: plan.seeds,
    validation: plan.validation,
    date: new Date().toISOString(),
    // the records of this grid's variants only: a sweep folder may hold runs of variants since removed
    where: sweepWhere(records.filter((r) => plan.variants.some((v) => v.id === r.sweep?.variant))),
    rows,
  };
  await writeFileAtomic(plan.tableFile, JSON.stringify(saved, null, 1) + '\n');
  return plan.tableFile;
}

export interface RunSweepOptions {
  /** The sweep's name (default: the grid file's base name; 'sweep' for a grid given as an object). */
  name?: string;
  /** Seeds per variant instead of the grid's. */
  seeds?: number;
}

/**
 * Notebook API: runs the sweep of `grid` (a grid file's path, or the grid itself as an object) in the
 * session's mode, resuming what is recorded, and returns its rows sorted (show them with sweepTable).
 */
export async function runSweep(session: Session, grid: string | object, options: RunSweepOptions = {}): Promise<SweepRow[]> {
  const where = typeof grid === 'string' ? grid : 'the sweep grid';
  const parsed = typeof grid === 'string' ? await readSweepGrid(grid) : parseSweepGrid(grid, where);
  const name = typeof grid === 'string' ? sweepName(grid, options.name) : sweepName('sweep', options.name);
  const plan = planOf(parsed, { where, name, mode: session.mode, modeLedgerDir: userLedgerDir(session.mode), seeds: options.seeds });
  const warn = (line: string): void => console.log(line);
  const { all, pending } = planSweep(plan.variants, plan.seeds, await sweepRecords(plan, warn));
  if (pending.length < all.length) console.log(`resuming: ${all.length - pending.length} of ${all.length} runs already recorded`);
  await trainSweep(plan, pending, all.length - pending.length, { ...session, source: 'notebook' }, {
    onRunStart: (run, done, total) => console.log(`variant ${run.variant.index} of ${plan.variants.length} (${run.variant.label}), seed ${run.seed}: run ${done + 1} of ${total}`),
  });
  const records = await sweepRecords(plan, warn);
  const rows = sweepTableRows(plan, records, warn);
  console.log(`table saved in ${displayPath(await saveSweepTable(plan, rows, records))}`);
  return rows;
}

/** The rows as a table for lib/table-notebook.ts show(table, caption): ≥ 99% by time first, then the rest. */
export function sweepTable(rows: readonly SweepRow[]): TableLike {
  return sweepTableLike(rows);
}
