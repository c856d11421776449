/**
 * The results ledger: every recorded step result, from the CLI, the benchmark and the notebooks.
 * One JSON file per record in one folder, each written atomically under a unique name, so two
 * processes recording at once never lose each other's record and no lock is needed. A file that
 * is not a valid record is moved aside to `corrupt/` and reported, never overwritten or trusted.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';
import { LedgerError } from './errors';
import { projectRoot } from './project-root';
import type { StepRecord } from './results';

export function defaultLedgerDir(): string {
  return process.env.MNIST_SPEEDRUN_LEDGER ?? join(projectRoot(), 'results', 'ledger');
}

/** Saves `record` as a new file; returns its path. */
export async function appendToLedger(record: StepRecord, dir: string = defaultLedgerDir()): Promise<string> {
  const stamp = record.date.replace(/[:.]/g, '-');
  const name = `${stamp}-step${String(record.step).padStart(2, '0')}-${process.pid}-${randomBytes(3).toString('hex')}.json`;
  const path = join(dir, name);
  try {
    await writeFileAtomic(path, JSON.stringify(record, null, 1) + '\n');
  } catch (error) {
    throw new LedgerError(`cannot write the results ledger at ${dir}: ${(error as Error).message}`);
  }
  return path;
}

function isStepRecord(value: unknown): value is StepRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<StepRecord>;
  return (
    record.kind === 'step-result' &&
    record.version === 1 &&
    typeof record.step === 'number' &&
    typeof record.backend === 'string' &&
    typeof record.date === 'string' &&
    Array.isArray(record.runs) &&
    record.runs.every((run) => typeof run === 'object' && run !== null && typeof run.seconds === 'number')
  );
}

export interface LedgerContents {
  /** Valid records, oldest first. */
  records: StepRecord[];
  /** One line per file that was moved aside, naming where it went. */
  problems: string[];
}

/** Reads every record; corrupt files are moved to `<dir>/corrupt/` and listed in `problems`. */
export async function readLedger(dir: string = defaultLedgerDir()): Promise<LedgerContents> {
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
    } catch {
      parsed = undefined;
    }
    if (isStepRecord(parsed)) {
      records.push(parsed);
      continue;
    }
    const aside = join(dir, 'corrupt', name);
    await mkdir(join(dir, 'corrupt'), { recursive: true });
    await rename(path, aside);
    problems.push(`ledger file ${path} is not a valid result record: moved aside to ${aside}`);
  }
  records.sort((a, b) => a.date.localeCompare(b.date));
  return { records, problems };
}

export interface LatestOptions {
  /** Only records from this backend. */
  backend?: string;
  /** Include quick-mode records (default false: they are not comparable with full runs). */
  includeQuick?: boolean;
  /** Include interrupted records (default false). */
  includePartial?: boolean;
}

/** The newest record of each step, in step order. */
export function latestPerStep(records: readonly StepRecord[], options: LatestOptions = {}): StepRecord[] {
  const latest = new Map<number, StepRecord>();
  for (const record of records) {
    if (options.backend !== undefined && record.backend !== options.backend) continue;
    if (!options.includeQuick && record.quick) continue;
    if (!options.includePartial && record.partial) continue;
    const seen = latest.get(record.step);
    if (!seen || seen.date <= record.date) latest.set(record.step, record);
  }
  return [...latest.values()].sort((a, b) => a.step - b.step);
}
