/**
 * The "your turn" table inside a notebook: kept apart from lib/your-turn.ts so that the CLI's `try`
 * and `sweep`, which share its training and comparison, never load the notebook kernel's modules.
 */
import type { Session } from './notebook';
import { isNotebookKernel, showTable } from './table-notebook';
import { compareTry, formatTryTable, TRY_COLUMNS, type TryResult } from './your-turn';

/**
 * Shows your change beside the step's unchanged recipe (your run of it in this mode, and the saved
 * reference in full mode): an HTML table in a notebook, a text table in plain Node.
 */
export async function showTry(session: Session, result: TryResult): Promise<void> {
  const comparison = await compareTry(result.record, { ledgerDir: session.ledgerDir, withReference: !session.recordsReference });
  if (!isNotebookKernel()) {
    console.log(formatTryTable(comparison));
    return;
  }
  const values = comparison.rows.map((r) => [r.run, r.where, r.timePerRun, r.epochs, r.testAccuracy, r.reached99, r.compares]);
  showTable({ columns: TRY_COLUMNS, values }, `step ${result.step}: your change beside its recipe`);
  for (const note of comparison.notes) console.log(note);
}
