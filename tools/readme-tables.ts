/**
 * The README's ladder, generated from the committed reference results (results/reference/), so
 * that every number in it names the record it comes from. test/readme.test.ts checks that the
 * README holds exactly this table.
 *
 *   npx tsx tools/readme-tables.ts        print the table (markdown)
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { currentRecipeHashes, ladderEngineNote, ladderFrom, NO_ORIGINAL, type LadderRow } from '../lib/comparison';
import { engineTag } from '../lib/engine-id';
import { readLedger, referenceLedgerDir } from '../lib/ledger';
import { formatDuration } from '../lib/timing';

function time(row: LadderRow): string {
  const mean = formatDuration(row.seconds * 1000);
  return row.runs === 1 ? `${mean} (1 run)` : `${mean} ± ${formatDuration(row.secondsStd * 1000)} (${row.runs} runs)`;
}

function accuracy(row: LadderRow): string {
  const mean = `${row.accuracy.toFixed(2)}%`;
  return row.runs === 1 ? mean : `${mean} ± ${row.accuracyStd.toFixed(3)}, ${row.reached99} of ${row.runs} ≥ 99%`;
}

function speedUp(value: number): string {
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)}x`;
}

/** The original's GPU time and speed-up, as two cells; a step the original does not have says so. */
function original(row: LadderRow): string {
  if (row.originalSeconds === null) return `${NO_ORIGINAL} | `;
  return `${formatDuration(row.originalSeconds * 1000)} | ${row.originalSpeedUp === null ? '' : speedUp(row.originalSpeedUp)}`;
}

/** The ladder table in markdown, one row per step of the reference ladder, and the line naming its machine. */
export function ladderMarkdown(rows: readonly LadderRow[]): string {
  const lines = [
    `Measured on ${rows[0]?.where ?? '(no reference results)'}; every row is the newest record of its step in \`results/reference/\`:`,
    '',
    '| # | step | time per run | epochs | test accuracy | speed-up | original (GPU) | speed-up | engine |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.step} | ${r.slug.slice(3).replace(/-/g, ' ')} | ${time(r)} | ${Number.isInteger(r.epochs) ? r.epochs : r.epochs.toFixed(1)} | ` +
        `${accuracy(r)} | ${speedUp(r.speedUp)} | ${original(r)} | \`${engineTag(r.engine ?? undefined)}\` |`,
    ),
  ];
  const engines = ladderEngineNote(rows);
  if (engines !== null) lines.push('', `Engine: ${engines.note}.`);
  return lines.join('\n');
}

export async function referenceLadder(): Promise<LadderRow[]> {
  const { records, problems } = await readLedger(referenceLedgerDir());
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return ladderFrom(records, currentRecipeHashes('full'));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(ladderMarkdown(await referenceLadder()));
}
