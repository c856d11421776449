/**
 * The results ledgers. Two kinds, kept apart:
 * - the reference ledger (`results/reference/`, committed): the runs behind the README and the
 *   saved notebooks. Written only when re-recording is asked for on purpose
 *   (MNIST_SPEEDRUN_REFERENCE=1, as `npm run notebooks -- --write` does), never by a user's run;
 * - your ledger (`results/yours/`, ignored by git, or MNIST_SPEEDRUN_LEDGER): every run of
 *   `npm start`, `train`, `ladder` and the notebooks; quick and workshop runs go to its `quick/`
 *   and `workshop/` folders, so their records never enter a full ledger, and the "your turn" tries
 *   (recipes with overrides) to a `tries/` folder inside the mode's folder.
 * One JSON file per record, each written atomically under a unique name, so two processes
 * recording at once never lose each other's record and no lock is needed. Reading never moves,
 * renames or deletes a file: a file that is not a valid record is reported and skipped.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';
import { LEDGER, MODE, QUICK, readSetting, REFERENCE } from './environment';
import { LedgerError, UsageError } from './errors';
import { projectRoot } from './project-root';
import { RECIPES, stepRange } from './recipes';
import { comparisonKey, type ComparableFields, type StepRecord } from './results';
import { RUN_MODES, runModeFromEnv, type RunMode } from './run-mode';

export const LEDGER_ENV_VAR = LEDGER.name;
export const REFERENCE_ENV_VAR = REFERENCE.name;

/** The committed reference ledger: the runs behind the README and the saved notebooks. */
export function referenceLedgerDir(): string {
  return join(projectRoot(), 'results', 'reference');
}

/** Your own ledger (MNIST_SPEEDRUN_LEDGER, else `results/yours/`); quick and workshop runs in its `quick/` and `workshop/` folders. */
export function userLedgerDir(mode: RunMode, env: NodeJS.ProcessEnv = process.env): string {
  const base = readSetting(LEDGER, env) ?? join(projectRoot(), 'results', 'yours');
  return mode === 'full' ? base : join(base, mode);
}

/** Where the tries of a mode's ledger folder go: recipes with overrides, never the step's own. */
export function triesLedgerDir(modeLedgerDir: string): string {
  return join(modeLedgerDir, 'tries');
}

/** True when MNIST_SPEEDRUN_REFERENCE asks to re-record the reference results (lib/environment.ts's yes/no rule). */
export function isReferenceRecording(env: NodeJS.ProcessEnv = process.env): boolean {
  return readSetting(REFERENCE, env) ?? false;
}

/**
 * Where a run's record goes: your ledger, or the reference ledger when re-recording is asked for.
 * Quick and workshop runs are never reference results.
 */
export function recordingLedgerDir(mode: RunMode, env: NodeJS.ProcessEnv = process.env): string {
  if (!isReferenceRecording(env)) return userLedgerDir(mode, env);
  if (mode !== 'full') {
    const drop = mode === 'quick' ? `--quick, ${QUICK.name} and ${MODE.name}=quick` : `--workshop, --mode workshop and ${MODE.name}=workshop`;
    throw new UsageError(
      `${REFERENCE_ENV_VAR}=1 records reference results, which are full runs: not with ${mode} mode; unset ${REFERENCE_ENV_VAR}, or drop ${drop}`,
    );
  }
  return referenceLedgerDir();
}

/** Where this process records runs by default (the mode from MNIST_SPEEDRUN_MODE or MNIST_SPEEDRUN_QUICK). */
export function defaultLedgerDir(mode: RunMode = runModeFromEnv()): string {
  return recordingLedgerDir(mode);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Why `value` is not a record this version can use, or null when it is one. */
export function recordProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (r.kind !== 'step-result') return "kind is not 'step-result'";
  if (r.version !== 2) return `schema version ${String(r.version)}, this version reads 2`;
  if (!Number.isInteger(r.step) || (r.step as number) < 1 || (r.step as number) > RECIPES.length) {
    return `step ${String(r.step)} is not a step of the ladder (${stepRange()})`;
  }
  for (const field of ['slug', 'change', 'recipeHash', 'dataHash', 'backend', 'device', 'date', 'source'] as const) {
    if (typeof r[field] !== 'string') return `${field} is missing or not text`;
  }
  if (r.backendLabel !== undefined && typeof r.backendLabel !== 'string') return 'backendLabel is not text';
  if (r.engine !== undefined && (typeof r.engine !== 'string' || r.engine === '')) return 'engine is not text';
  if (Number.isNaN(Date.parse(r.date as string))) return `date '${String(r.date)}' is not a date`;
  if (!(r.threads === null || (Number.isInteger(r.threads) && (r.threads as number) > 0))) return 'threads is not a positive whole number or null';
  if (typeof r.quick !== 'boolean' || typeof r.partial !== 'boolean') return 'quick or partial is not true/false';
  if (r.mode !== undefined) {
    if (!(RUN_MODES as readonly unknown[]).includes(r.mode)) return `mode '${String(r.mode)}' is not one of ${RUN_MODES.join(', ')}`;
    if (r.quick !== (r.mode === 'quick')) return `quick is ${String(r.quick)} but mode is '${String(r.mode)}'`;
  }
  if (r.overrides !== undefined) {
    const overrides = r.overrides as Record<string, unknown> | null;
    if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides) || Object.values(overrides).some((v) => typeof v !== 'string')) {
      return 'overrides is not an object of field: value texts';
    }
  }
  if (r.sweep !== undefined) {
    const sweep = r.sweep as Record<string, unknown> | null;
    if (typeof sweep !== 'object' || sweep === null || typeof sweep.name !== 'string' || typeof sweep.variant !== 'string') {
      return 'sweep is not an object with a name and a variant';
    }
    if (!Number.isInteger(sweep.validation) || (sweep.validation as number) < 1) return 'sweep.validation is not a whole number above 0';
    if (r.overrides === undefined) return 'a sweep record has no overrides';
  }
  const machine = r.machine as Record<string, unknown> | null;
  if (typeof machine !== 'object' || machine === null) return 'machine is missing';
  for (const field of ['cpu', 'platform', 'node', 'tfjs'] as const) {
    if (typeof machine[field] !== 'string') return `machine.${field} is missing or not text`;
  }
  if (!isFiniteNumber(machine.cores) || !isFiniteNumber(machine.memoryGiB) || !isFiniteNumber(machine.loadAverage)) {
    return 'machine.cores, memoryGiB or loadAverage is not a number';
  }
  const reference = r.reference as Record<string, unknown> | null;
  // null only for a step the original does not have (step 9); the original's steps carry its numbers
  const hasOriginal = RECIPES.find((recipe) => recipe.step === r.step)?.reference !== null;
  if (reference === null && hasOriginal) return `reference is null, but step ${String(r.step)} is one of the original's: it needs its seconds and accuracy`;
  if (reference !== null) {
    if (typeof reference !== 'object' || !isFiniteNumber(reference.seconds) || !isFiniteNumber(reference.accuracy)) {
      return 'reference is missing its seconds or accuracy';
    }
    // the ladder divides by the original's seconds: 0 would print an Infinityx speed-up
    if (reference.seconds <= 0) return `reference.seconds must be above 0, got ${reference.seconds}`;
    if (reference.accuracy <= 0 || reference.accuracy > 100) return `reference.accuracy must be a percentage, got ${reference.accuracy}`;
  }
  if (!Array.isArray(r.runs) || r.runs.length === 0) return 'runs is missing or empty';
  for (const [i, run] of (r.runs as unknown[]).entries()) {
    if (typeof run !== 'object' || run === null) return `run ${i + 1} is not an object`;
    const x = run as Record<string, unknown>;
    if (!isFiniteNumber(x.seconds) || x.seconds <= 0) return `run ${i + 1}: seconds must be a finite number above 0, got ${String(x.seconds)}`;
    if (!Number.isInteger(x.seed)) return `run ${i + 1}: seed is not a whole number`;
    if (!Number.isInteger(x.epochs) || (x.epochs as number) < 0) return `run ${i + 1}: epochs is not a whole number`;
    if (!(x.testAccuracy === null || (isFiniteNumber(x.testAccuracy) && x.testAccuracy >= 0 && x.testAccuracy <= 100))) {
      return `run ${i + 1}: testAccuracy is not a percentage or null`;
    }
    if (typeof x.partial !== 'boolean') return `run ${i + 1}: partial is not true/false`;
  }
  if ((r.runs as Array<{ partial: boolean }>).every((run) => run.partial)) return 'no run finished';
  return null;
}

/** Saves `record` as a new file; returns its path. A record that would not read back is refused. */
export async function appendToLedger(record: StepRecord, dir: string): Promise<string> {
  const problem = recordProblem(record);
  if (problem !== null) throw new LedgerError(`refusing to record an invalid result in ${dir}: ${problem}`);
  const stamp = record.date.replace(/[:.]/g, '-');
  const name = `${stamp}-step${String(record.step).padStart(2, '0')}-${process.pid}-${randomBytes(3).toString('hex')}.json`;
  const path = join(dir, name);
  try {
    await writeFileAtomic(path, JSON.stringify(record, null, 1) + '\n');
  } catch (error) {
    throw new LedgerError(`cannot write the results ledger at ${dir}: ${(error as Error).message}; use --no-record to run without recording`);
  }
  return path;
}

export interface LedgerContents {
  /** Valid records, oldest first. */
  records: StepRecord[];
  /** One line per file that was skipped, naming it and why. Nothing is moved or deleted. */
  problems: string[];
}

/** Reads every record of `dir` (its top level only); files that are not valid records are skipped and listed. */
export async function readLedger(dir: string): Promise<LedgerContents> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [] };
    throw new LedgerError(`cannot read the results ledger at ${dir}: ${(error as Error).message}`);
  }
  const records: StepRecord[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // a file removed by someone else between the listing and the read is simply gone
      if (code === 'ENOENT') continue;
      problems.push(`skipped ledger file ${path}: ${code ? `cannot read it (${code})` : 'not valid JSON'}`);
      continue;
    }
    const problem = recordProblem(parsed);
    if (problem === null) records.push(parsed as StepRecord);
    else problems.push(`skipped ledger file ${path}: ${problem}`);
  }
  records.sort((a, b) => a.date.localeCompare(b.date));
  return { records, problems };
}

export interface SelectOptions {
  /** Only records comparable with this one (lib/results.ts comparisonKey). */
  like: ComparableFields;
  /** The recipe hash each step must have been trained with (records of other recipes are left out). */
  recipeHashes: ReadonlyMap<number, string>;
  /** Include interrupted records (default false). */
  includePartial?: boolean;
}

/** True for a "your turn" try (a recipe with overrides): never the step's own recipe, even where no field changed. */
export function isTry(record: Pick<StepRecord, 'overrides'>): boolean {
  return record.overrides !== undefined;
}

/** The newest record of each step that is comparable with `like` and ran today's recipe, in step order. */
export function newestComparablePerStep(records: readonly StepRecord[], options: SelectOptions): StepRecord[] {
  const key = comparisonKey(options.like);
  const newest = new Map<number, StepRecord>();
  for (const record of records) {
    if (comparisonKey(record) !== key) continue;
    if (options.recipeHashes.get(record.step) !== record.recipeHash || isTry(record)) continue;
    if (!options.includePartial && record.partial) continue;
    const seen = newest.get(record.step);
    if (!seen || seen.date <= record.date) newest.set(record.step, record);
  }
  return [...newest.values()].sort((a, b) => a.step - b.step);
}
