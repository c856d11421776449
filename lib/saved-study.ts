/**
 * A sweep saved as a study (results/studies/*.json): what `mnist-speedrun sweep` printed, kept with
 * the machine, backend and date that made it, so that a notebook can show the search behind a step
 * without rerunning it. The table is the sweep's own (lib/sweep.ts sweepTableLike: variants
 * reaching 99% first, fastest first), under a caption naming where and when it ran.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from './errors';
import { machineLabel, type MachineInfo } from './machine';
import { sweepTableLike, type SweepRow } from './sweep';
import { show } from './table-notebook';
import type { TableLike } from './text-table';

export interface SavedStudy {
  /** What the study looked for, in words. */
  study: string;
  command: string;
  machine: Pick<MachineInfo, 'cpu' | 'cores' | 'memoryGiB' | 'platform'>;
  backend: string;
  threads: number | null;
  table: {
    name: string;
    mode: string;
    /** The step the variants change. */
    step: number;
    seeds: number[];
    /** Held-out training images the variants were judged on. */
    validation: number;
    date: string;
    rows: SweepRow[];
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ROW_NUMBERS = ['runs', 'secondsMean', 'secondsStd', 'accuracyMean', 'accuracyStd', 'reached99'] as const;

/** Why `value` is not a saved sweep study, or null when it is one. */
export function savedStudyProblem(value: unknown): string | null {
  if (!isObject(value)) return 'not a JSON object';
  for (const field of ['study', 'command', 'backend'] as const) if (typeof value[field] !== 'string') return `${field} is missing or not text`;
  const machine = value['machine'];
  if (!isObject(machine) || typeof machine['cpu'] !== 'string' || typeof machine['platform'] !== 'string' || typeof machine['cores'] !== 'number') {
    return 'machine is missing its cpu, cores or platform';
  }
  const table = value['table'];
  if (!isObject(table) || table['kind'] !== 'sweep-table') return "table is missing or not a sweep table (kind 'sweep-table')";
  if (typeof table['date'] !== 'string' || Number.isNaN(Date.parse(table['date']))) return 'table.date is missing or not a date';
  if (!Array.isArray(table['seeds']) || !Number.isInteger(table['step']) || typeof table['validation'] !== 'number') return 'table.step, seeds or validation is missing';
  if (!Array.isArray(table['rows'])) return 'table.rows is missing';
  for (const [i, row] of (table['rows'] as unknown[]).entries()) {
    if (!isObject(row) || typeof row['variant'] !== 'string') return `table.rows[${i}] has no variant`;
    for (const field of ROW_NUMBERS) if (typeof row[field] !== 'number') return `table.rows[${i}].${field} is not a number`;
  }
  return null;
}

/** Reads a saved study; a missing, unreadable or malformed file is refused in one line naming the path. */
export async function readSavedStudy(path: string): Promise<SavedStudy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the saved study ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; give the path of a file in results/studies/`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const problem = savedStudyProblem(parsed);
  if (problem !== null) throw new UsageError(`${path} is not a saved sweep study: ${problem}`);
  const study = parsed as SavedStudy;
  return { ...study, threads: typeof study.threads === 'number' ? study.threads : null };
}

/** Where and when the study ran, in words: 'wasm ..., 2 threads, on AMD EPYC, ...; 2026-12-01'. */
export function studyWhere(study: SavedStudy): string {
  const threads = study.threads === null ? '' : `, ${study.threads} thread${study.threads === 1 ? '' : 's'}`;
  return `${study.backend}${threads}, on ${machineLabel(study.machine)}; ${study.table.date.slice(0, 10)}`;
}

/** The study's table (lib/sweep.ts's columns and order) and its caption. */
export function savedStudyTable(study: SavedStudy): TableLike & { caption: string } {
  const { table } = study;
  const seeds = table.seeds.length === 0 ? 'no seeds' : `seeds ${Math.min(...table.seeds)}-${Math.max(...table.seeds)}`;
  return {
    ...sweepTableLike(table.rows),
    caption:
      `${study.study}. Around step ${table.step}, ${seeds}, validation on ${table.validation.toLocaleString('en-US')} held-out ` +
      `training images, ${table.mode} mode; ran on ${studyWhere(study)}`,
  };
}

/**
 * Shows a saved study as a table (HTML in a notebook, text elsewhere), and says whether its
 * seconds compare with this session's machine.
 */
export async function showStudy(session: { machine: Pick<MachineInfo, 'cpu' | 'cores' | 'memoryGiB' | 'platform'> }, path: string): Promise<void> {
  const study = await readSavedStudy(path);
  const table = savedStudyTable(study);
  show(table, table.caption);
  console.log(
    machineLabel(study.machine) === machineLabel(session.machine)
      ? 'the same kind of machine as this session: its seconds compare with yours'
      : `another machine than this session's (${machineLabel(session.machine)}): compare the ratios between variants, not the seconds`,
  );
}
