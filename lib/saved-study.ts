/**
 * A sweep saved as a study (results/studies/*.json): what `mnist-speedrun sweep` printed, kept with
 * the machine, backend and date that made it, so that a notebook can show the search behind a step
 * without rerunning it. The table is the sweep's own (lib/sweep.ts sweepTableLike: variants
 * reaching 99% first, fastest first), under a caption naming where and when it ran; or the same rows
 * as a chart (lib/plot.ts sweepScatterSpec). Two formats are read: the wrapped study of
 * results/studies/ and the table `sweep GRID.json --save-table FILE` writes (lib/sweep-run.ts).
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from './errors';
import { machineLabel, type MachineInfo } from './machine';
import { sweepScatterPlotly, sweepScatterSpec } from './plot';
import { showFigure } from './plot-notebook';
import { sweepTableLike, type SweepRow } from './sweep';
import type { SweepWhere } from './sweep-where';
import { show } from './table-notebook';
import type { TableLike } from './text-table';

/** The machine a study ran on; a sweep table written by `sweep --save-table` does not record memory. */
export type StudyMachine = Pick<MachineInfo, 'cpu' | 'cores' | 'platform'> & { memoryGiB: number | null };

/**
 * A saved study in one shape, whichever of the two formats it was read from: the wrapped one
 * (`{study, command, machine, backend, threads, table}`) or a sweep table saved by
 * `npx mnist-speedrun sweep GRID.json --save-table FILE` (`{kind: 'sweep-table', ..., where, rows}`).
 * What a format did not record is null.
 */
export interface SavedStudy {
  /** What the study looked for, in words. */
  study: string;
  command: string | null;
  machine: StudyMachine | null;
  backend: string | null;
  threads: number | null;
  /** Lowest and highest 1-minute load average recorded while the runs ran. */
  loadAverage: { min: number; max: number } | null;
  /** How many machines or backends the runs came from (1 when their times compare). */
  settings: number;
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

/** Why `table` lacks a sweep table's fields (named after `prefix`: 'table.' or ''), or null. */
function sweepTableProblem(table: Record<string, unknown>, prefix: string): string | null {
  if (typeof table['date'] !== 'string' || Number.isNaN(Date.parse(table['date']))) return `${prefix}date is missing or not a date`;
  if (!Number.isInteger(table['step'])) return `${prefix}step is missing or not a whole number`;
  if (!Array.isArray(table['seeds']) || !table['seeds'].every((seed) => Number.isInteger(seed))) return `${prefix}seeds is missing or not a list of seeds`;
  if (typeof table['validation'] !== 'number') return `${prefix}validation is missing or not a number`;
  for (const field of ['name', 'mode'] as const) if (typeof table[field] !== 'string') return `${prefix}${field} is missing or not text`;
  if (!Array.isArray(table['rows'])) return `${prefix}rows is missing`;
  for (const [i, row] of (table['rows'] as unknown[]).entries()) {
    if (!isObject(row) || typeof row['variant'] !== 'string') return `${prefix}rows[${i}] has no variant`;
    for (const field of ROW_NUMBERS) if (typeof row[field] !== 'number') return `${prefix}rows[${i}].${field} is not a number`;
  }
  return null;
}

/** Why `where` is not lib/sweep-where.ts's SweepWhere (null is allowed: a sweep without records), or null. */
function sweepWhereProblem(where: unknown, name: string): string | null {
  if (where === null) return null;
  if (!isObject(where)) return `${name} is not an object (nor null)`;
  for (const field of ['cpu', 'platform', 'node', 'tfjs', 'backend'] as const) if (typeof where[field] !== 'string') return `${name}.${field} is missing or not text`;
  if (!Number.isInteger(where['cores'])) return `${name}.cores is missing or not a whole number`;
  if (where['threads'] !== null && !Number.isInteger(where['threads'])) return `${name}.threads is not a whole number (nor null)`;
  const load = where['loadAverage'];
  if (!isObject(load) || typeof load['min'] !== 'number' || typeof load['max'] !== 'number') return `${name}.loadAverage is missing its min or max`;
  if (!Number.isInteger(where['settings']) || (where['settings'] as number) < 1) return `${name}.settings is missing or not a whole number from 1`;
  return null;
}

/** Why the wrapped form `{study, command, machine, backend, threads, table}` is not a saved study, or null. */
function wrappedStudyProblem(value: Record<string, unknown>): string | null {
  for (const field of ['study', 'command', 'backend'] as const) if (typeof value[field] !== 'string') return `${field} is missing or not text`;
  const machine = value['machine'];
  if (!isObject(machine) || typeof machine['cpu'] !== 'string' || typeof machine['platform'] !== 'string' || typeof machine['cores'] !== 'number') {
    return 'machine is missing its cpu, cores or platform';
  }
  const table = value['table'];
  if (!isObject(table) || table['kind'] !== 'sweep-table') return "table is missing or not a sweep table (kind 'sweep-table')";
  return sweepTableProblem(table, 'table.') ?? (table['where'] === undefined ? null : sweepWhereProblem(table['where'], 'table.where'));
}

/**
 * Why `value` is neither a saved study (`{study, machine, table, ...}`) nor a sweep table saved by
 * `sweep --save-table` (`{kind: 'sweep-table', ...}`), in one line naming the field; null when it is one.
 */
export function savedStudyProblem(value: unknown): string | null {
  if (!isObject(value)) return 'not a JSON object';
  if (!('kind' in value)) return wrappedStudyProblem(value);
  if (value['kind'] !== 'sweep-table') return `kind is ${JSON.stringify(value['kind'])}, not 'sweep-table'`;
  if (!('where' in value)) return 'where is missing (null when the sweep had no records)';
  return sweepTableProblem(value, '') ?? sweepWhereProblem(value['where'], 'where');
}

/** The one shape of a value that savedStudyProblem accepted. */
function normalised(value: Record<string, unknown>): SavedStudy {
  const tableOf = (t: Record<string, unknown>): SavedStudy['table'] => ({
    name: t['name'] as string,
    mode: t['mode'] as string,
    step: t['step'] as number,
    seeds: t['seeds'] as number[],
    validation: t['validation'] as number,
    date: t['date'] as string,
    rows: t['rows'] as SweepRow[],
  });
  if (value['kind'] === 'sweep-table') {
    const where = value['where'] as SweepWhere | null;
    const table = tableOf(value);
    return {
      study: `the sweep ${table.name}`,
      command: null,
      machine: where === null ? null : { cpu: where.cpu, cores: where.cores, memoryGiB: null, platform: where.platform },
      backend: where?.backend ?? null,
      threads: where?.threads ?? null,
      loadAverage: where === null ? null : { ...where.loadAverage },
      settings: where?.settings ?? 1,
      table,
    };
  }
  const machine = value['machine'] as Record<string, unknown>;
  const rawTable = value['table'] as Record<string, unknown>;
  // the wrapped form's machine.loadAverage is one reading when it was described, not the range while the runs ran
  const where = (rawTable['where'] ?? null) as SweepWhere | null;
  return {
    study: value['study'] as string,
    command: value['command'] as string,
    machine: {
      cpu: machine['cpu'] as string,
      cores: machine['cores'] as number,
      memoryGiB: typeof machine['memoryGiB'] === 'number' ? machine['memoryGiB'] : null,
      platform: machine['platform'] as string,
    },
    backend: value['backend'] as string,
    threads: typeof value['threads'] === 'number' ? value['threads'] : null,
    loadAverage: where === null ? null : { ...where.loadAverage },
    settings: where?.settings ?? 1,
    table: tableOf(rawTable),
  };
}

/**
 * A saved study from parsed JSON of either format, in one shape; a malformed one is refused in one
 * line naming `where` (a path) and the field.
 */
export function savedStudyOf(value: unknown, where = 'the saved study'): SavedStudy {
  const problem = savedStudyProblem(value);
  if (problem !== null) throw new UsageError(`${where} is not a saved sweep study: ${problem}; give a file saved by \`sweep --save-table\` or one in results/studies/`);
  return normalised(value as Record<string, unknown>);
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
  return savedStudyOf(parsed, path);
}

/** 'AMD EPYC, 2 cores, 24 GiB, linux-x64' (lib/machine.ts machineLabel), the memory left out when not recorded. */
export function studyMachineLabel(machine: StudyMachine): string {
  return machine.memoryGiB === null ? `${machine.cpu}, ${machine.cores} cores, ${machine.platform}` : machineLabel({ ...machine, memoryGiB: machine.memoryGiB });
}

/** Where and when the study ran, in words: 'wasm ..., 2 threads, on AMD EPYC, ...; 2026-12-01'. */
export function studyWhere(study: SavedStudy): string {
  const date = study.table.date.slice(0, 10);
  if (study.machine === null) return `a machine and backend not recorded; ${date}`;
  const threads = study.threads === null ? '' : `, ${study.threads} thread${study.threads === 1 ? '' : 's'}`;
  return `${study.backend ?? 'a backend not recorded'}${threads}, on ${studyMachineLabel(study.machine)}; ${date}`;
}

/**
 * What the caption adds about how far the seconds can be trusted: the load while the runs ran
 * (said only when recorded), and a warning when the runs come from several machines or backends.
 */
export function studyTimingNotes(study: Pick<SavedStudy, 'loadAverage' | 'settings' | 'machine'>): string[] {
  const notes: string[] = [];
  const load = study.loadAverage;
  if (load !== null) {
    // a load above the core count means other work competed with the runs
    const busy = study.machine !== null && load.max > study.machine.cores;
    notes.push(`load ${load.min.toFixed(1)}-${load.max.toFixed(1)} while it ran${busy ? ': times from a busy machine compare loosely' : ''}`);
  }
  if (study.settings > 1) notes.push(`the runs come from ${study.settings} machines or backends (the first is named), so their times do not compare`);
  return notes;
}

/** The study's table (lib/sweep.ts's columns and order) and its caption. */
export function savedStudyTable(study: SavedStudy): TableLike & { caption: string } {
  const { table } = study;
  const seeds = table.seeds.length === 0 ? 'no seeds' : `seeds ${Math.min(...table.seeds)}-${Math.max(...table.seeds)}`;
  return {
    ...sweepTableLike(table.rows),
    caption:
      [`${study.study}. Around step ${table.step}, ${seeds}, validation on ${table.validation.toLocaleString('en-US')} held-out ` +
        `training images, ${table.mode} mode; ran on ${studyWhere(study)}`, ...studyTimingNotes(study)].join('; '),
  };
}

type SessionMachine = { machine: Pick<MachineInfo, 'cpu' | 'cores' | 'memoryGiB' | 'platform'> };

/** Whether the study's seconds compare with this session's machine, in one line. */
export function comparedWithSession(study: Pick<SavedStudy, 'machine'>, session: SessionMachine): string {
  const { machine } = study;
  if (machine === null) return 'the machine that ran it is not recorded: compare the ratios between variants, not the seconds';
  const same =
    machine.cpu === session.machine.cpu && machine.cores === session.machine.cores && machine.platform === session.machine.platform &&
    (machine.memoryGiB === null || machine.memoryGiB === session.machine.memoryGiB);
  return same
    ? 'the same kind of machine as this session: its seconds compare with yours'
    : `another machine than this session's (${machineLabel(session.machine)}): compare the ratios between variants, not the seconds`;
}

/**
 * Shows a saved study as a table (HTML in a notebook, text elsewhere), and says whether its
 * seconds compare with this session's machine.
 */
export async function showStudy(session: SessionMachine, path: string): Promise<void> {
  const study = await readSavedStudy(path);
  const table = savedStudyTable(study);
  show(table, table.caption);
  console.log(comparedWithSession(study, session));
}

/**
 * Shows a saved study as a picture (lib/plot.ts sweepScatterSpec: time per run against validation
 * accuracy, one point per variant, the `highlight`ed ones labelled), a PNG always and a live plotly
 * figure below it, then says where it ran and whether its seconds compare with this session's.
 */
export async function showStudyChart(
  session: SessionMachine,
  path: string,
  options: { highlight?: readonly string[]; title?: string } = {},
): Promise<void> {
  const study = await readSavedStudy(path);
  const chart = { title: options.title ?? `${study.table.name}: every variant around step ${study.table.step}`, highlight: options.highlight };
  await showFigure(sweepScatterSpec(study.table.rows, chart), { interactive: sweepScatterPlotly(study.table.rows, chart) });
  console.log([`ran on ${studyWhere(study)}`, ...studyTimingNotes(study)].join('; '));
  console.log(comparedWithSession(study, session));
}
