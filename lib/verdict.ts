/**
 * A step's verdict, computed from its record and the step before it on the same machine: does the
 * mean over the seeds reach 99%, how many seeds do, and how its time per run compares with the
 * previous step's: from steps timed in turns when given (lib/alternating-timing.ts), else from the
 * previous step's record on the same machine. Markdown in a notebook (showVerdict), text elsewhere;
 * numbers from the records alone, whichever machine and mode made them.
 */
import { turnsAgainst, type AlternatingTiming } from './alternating-timing';
import { comparisonInput, type LedgerSession } from './comparison-input';
import { withPreviousStep } from './comparison';
import { recordMode, summarize, whereLabel, type StepRecord } from './results';
import { showMarkdown } from './table-notebook';
import { formatDuration, spreadDigits } from './timing';

/** The goal of every step, percent test accuracy (as results.ts counts `reached99`). */
const TARGET_ACCURACY_PCT = 99;

function percent(share: number): string {
  return `${Math.round(100 * share)}%`;
}

/**
 * The verdict on `record` as markdown sentences; `previous` is the record of the step before it
 * from the same machine, backend, threads, data and mode, or null when there is none.
 */
export function verdictMarkdown(record: StepRecord, previous: StepRecord | null, turns: AlternatingTiming | null = null): string {
  const mine = summarize(record);
  const mode = recordMode(record);
  const sentences: string[] = [];
  if (mine.runs === 0 || Number.isNaN(mine.accuracyMean)) {
    sentences.push(`Step ${record.step} has no finished run with a test accuracy: there is nothing to judge.`);
  } else {
    const reaches = mine.accuracyMean >= TARGET_ACCURACY_PCT;
    sentences.push(
      `**Step ${record.step} ${reaches ? 'reaches' : 'does not reach'} 99%**: ${mine.accuracyMean.toFixed(2)}% ± ${mine.accuracyStd.toFixed(3)} ` +
        `mean test accuracy over ${mine.runs} seed${mine.runs === 1 ? '' : 's'}` +
        (reaches ? '.' : `, ${(TARGET_ACCURACY_PCT - mine.accuracyMean).toFixed(2)} points short.`),
      `${mine.reached99} of ${mine.runs} seeds (${percent(mine.reached99 / mine.runs)}) reached 99% or more.`,
    );
  }
  const timed = turnsAgainst(turns, record.step);
  if (timed !== null) {
    const { row, yardstick } = timed;
    const digits = spreadDigits(row.ratioStd);
    sentences.push(
      `Time: ${row.ratioMean.toFixed(digits)}x step ${yardstick.step}'s (± ${row.ratioStd.toFixed(digits)} over ${row.rounds} round${row.rounds === 1 ? '' : 's'} timed in turns on this machine).`,
    );
  } else if (previous === null) {
    sentences.push(`No step ${record.step - 1} is recorded on this machine in ${mode} mode: run its notebook for the time ratio.`);
  } else {
    const theirs = summarize(previous);
    const ratio = mine.secondsMean / theirs.secondsMean;
    sentences.push(
      `Time per run: ${formatDuration(mine.secondsMean * 1000)} against step ${previous.step}'s ${formatDuration(theirs.secondsMean * 1000)} ` +
        `on the same machine (${whereLabel(record)}): ${ratio.toFixed(2)}x the time` +
        (!Number.isNaN(theirs.accuracyMean) ? `, at ${theirs.accuracyMean.toFixed(2)}% for step ${previous.step} (${theirs.reached99} of ${theirs.runs} seeds ≥ 99%).` : '.'),
    );
  }
  if (mode !== 'full') sentences.push(`(${mode} mode: a subset and a short budget, so 99% is out of reach; the verdict that counts is a full run's.)`);
  return sentences.join(' ');
}

/** The verdict on `record` against this session's own comparable record of the step before it. */
export async function verdict(session: LedgerSession, record: StepRecord, turns: AlternatingTiming | null = null): Promise<string> {
  const input = await comparisonInput(session, record);
  const pair = withPreviousStep(input.ledger, record, input.hashes);
  return verdictMarkdown(record, pair.length > 1 ? pair[0]! : null, turns);
}

/** Shows the verdict as markdown in a notebook, and prints it elsewhere. */
export async function showVerdict(session: LedgerSession, record: StepRecord, turns: AlternatingTiming | null = null): Promise<void> {
  showMarkdown(await verdict(session, record, turns));
}
