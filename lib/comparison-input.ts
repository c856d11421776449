/**
 * What a step's comparison and live summary are built from: this run's record, the ledger the
 * session records into, and the saved reference results (none while re-recording them).
 */
import { currentRecipeHashes, type ComparisonInput } from './comparison';
import { readLedger, referenceLedgerDir } from './ledger';
import { displayPath } from './project-root';
import type { StepRecord } from './results';
import type { RunMode } from './run-mode';

/** The parts of a notebook session (lib/notebook.ts Session) a comparison needs. */
export interface LedgerSession {
  ledgerDir: string;
  recordsReference: boolean;
  mode: RunMode;
}

/** Reads a ledger, printing one line for each file that was skipped. */
export async function readReporting(dir: string): Promise<StepRecord[]> {
  const { records, problems } = await readLedger(dir);
  for (const problem of problems) console.warn(problem);
  return records;
}

export async function comparisonInput(session: LedgerSession, record: StepRecord): Promise<ComparisonInput> {
  return {
    record,
    ledger: await readReporting(session.ledgerDir),
    ledgerName: displayPath(session.ledgerDir),
    reference: session.recordsReference ? null : await readReporting(referenceLedgerDir()),
    referenceName: displayPath(referenceLedgerDir()),
    hashes: currentRecipeHashes(session.mode),
  };
}
