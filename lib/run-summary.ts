/**
 * "What we saw", computed from this run: a short markdown paragraph of this run's numbers, set
 * beside your previous step on the same machine, the saved reference run and the original. Every
 * number comes from the record and the ledgers, so after a live run it never contradicts the
 * tables above it (the notebooks' fixed prose describes the saved run only).
 */
import { turnsAgainst, type AlternatingTiming } from './alternating-timing';
import { newestOfStep, timesBeside, withPreviousStep, type ComparisonInput } from './comparison';
import { engineDifference, sameEngine } from './engine-id';
import { comparisonInput, type LedgerSession } from './comparison-input';
import { RECIPES, type Recipe } from './recipes';
import { recordMode, summarize, whereLabel, type StepRecord, type StepSummary } from './results';
import type { RunMode } from './run-mode';
import { showMarkdown } from './table-notebook';
import { formatDuration } from './timing';

/** '7.18 s ± 287 ms per run over 30 runs' or '27 min 1 s for its one run'. */
function timeOf(s: StepSummary): string {
  return s.runs === 1
    ? `**${formatDuration(s.secondsMean * 1000)}** for its one run`
    : `**${formatDuration(s.secondsMean * 1000)} ± ${formatDuration(s.secondsStd * 1000)}** per run over ${s.runs} runs`;
}

function accuracyOf(s: StepSummary): string {
  if (Number.isNaN(s.accuracyMean)) return 'no test accuracy';
  return s.runs === 1
    ? `test accuracy ${s.accuracyMean.toFixed(2)}% (${s.reached99 === 1 ? 'at or above' : 'below'} 99%)`
    : `test accuracy ${s.accuracyMean.toFixed(2)}% ± ${s.accuracyStd.toFixed(3)}, ${s.reached99} of ${s.runs} seeds reached 99%`;
}

/** '2.3 times faster' / '1.4 times slower' / 'as fast' for the time going from `before` to `after`. */
export function speedWords(beforeSeconds: number, afterSeconds: number): string {
  const ratio = beforeSeconds / afterSeconds;
  if (!Number.isFinite(ratio) || ratio <= 0) return 'not comparable';
  if (Math.abs(ratio - 1) < 0.05) return 'about as fast';
  return ratio > 1 ? `${ratio.toFixed(1)} times faster` : `${(1 / ratio).toFixed(1)} times slower`;
}

function epochsOf(s: StepSummary): string {
  const epochs = Number.isInteger(s.epochsMean) ? String(s.epochsMean) : s.epochsMean.toFixed(1);
  return `${epochs} epoch${s.epochsMean === 1 ? '' : 's'}${s.runs > 1 ? ' on average' : ''}`;
}

/** How the summary names each mode. */
const MODE_WORDS: Readonly<Record<RunMode, string>> = {
  full: 'full run',
  workshop: 'workshop mode: a subset, compared only with workshop runs',
  quick: 'quick mode: a subset, not comparable with full runs',
};

/** The notebook file name of `step` without extension, e.g. '03-smaller-net'. */
function notebookOf(step: number, recipes: readonly Recipe[]): string {
  return recipes.find((r) => r.step === step)?.slug ?? String(step).padStart(2, '0');
}

/**
 * The paragraph, from the comparison's inputs only (pure: the tests build them by hand). Four
 * sentences: this run; against your previous step on the same machine (from `turns`, the two
 * timed in turns, when given); against the saved reference run (whether its seconds compare
 * directly); against the original's GPU.
 */
export function summaryMarkdown(input: ComparisonInput, recipes: readonly Recipe[] = RECIPES, turns: AlternatingTiming | null = null): string {
  const { record, hashes } = input;
  const mine = summarize(record);
  const mode = MODE_WORDS[recordMode(record)];
  const sentences = [
    `In this run (${whereLabel(record)}; ${mode}), step ${record.step} took ${timeOf(mine)}, ${epochsOf(mine)}, ${accuracyOf(mine)}` +
      (record.partial ? ' (interrupted: only the finished runs count)' : '') +
      '.',
  ];
  const timed = turnsAgainst(turns, record.step);
  if (timed !== null && timed.yardstick.step === record.step - 1) {
    const { row, yardstick } = timed;
    sentences.push(
      `Against step ${yardstick.step} timed in turns with it on this machine (${row.rounds} rounds, ${formatDuration(yardstick.secondsMean * 1000)} against ` +
        `${formatDuration(row.secondsMean * 1000)} per run): ${speedWords(yardstick.secondsMean, row.secondsMean)}, ${row.ratioMean.toFixed(2)}x its time.`,
    );
  } else if (record.step > 1) {
    const pair = withPreviousStep(input.ledger, record, hashes);
    const previous = pair.length > 1 ? summarize(pair[0]!) : null;
    sentences.push(
      previous === null
        ? `No step ${record.step - 1} is recorded on this machine yet (${input.ledgerName}): run notebook ${notebookOf(record.step - 1, recipes)} to see this step's speed-up here.`
        : `Against your step ${record.step - 1} on the same machine (${formatDuration(previous.secondsMean * 1000)} per run): ` +
            `${speedWords(previous.secondsMean, mine.secondsMean)}` +
            (sameEngine(pair[0]!, record) ? '.' : `, but ${engineDifference(record, pair[0]!)}, so the comparison is not like for like.`),
    );
  }
  sentences.push(referenceSentence(input, mine));
  const original = recipes.find((r) => r.step === record.step);
  const originalBefore = recipes.find((r) => r.step === record.step - 1);
  const theirs = original?.reference ?? null;
  const theirsBefore = originalBefore?.reference ?? null;
  if (original !== undefined && theirs === null) {
    sentences.push(`The original has no step ${record.step}: this step is ours, so there is no GPU time to set beside it.`);
  } else if (theirs !== null) {
    sentences.push(
      `The original (GTX 1660 Ti, another machine) took ${formatDuration(theirs.seconds * 1000)} at ${theirs.accuracy}%` +
        (theirsBefore === null || originalBefore === undefined ? '.' : `, ${speedWords(theirsBefore.seconds, theirs.seconds)} than its step ${originalBefore.step}.`),
    );
  }
  return sentences.join(' ');
}

function referenceSentence(input: ComparisonInput, mine: StepSummary): string {
  const { record, hashes } = input;
  if (input.reference === null) return `This run is recorded as the saved reference run (${input.referenceName}).`;
  const mode = recordMode(record);
  if (mode !== 'full') return `${mode[0]!.toUpperCase()}${mode.slice(1)} mode: the saved reference runs are full runs, so none is set beside this one.`;
  const saved = newestOfStep(input.reference, record.step, hashes);
  if (saved === null) return `There is no saved reference run of step ${record.step} with today's recipe (${input.referenceName}).`;
  const theirs = summarize(saved);
  const head = `The saved reference run (${whereLabel(saved)}, ${saved.date.slice(0, 10)}) took ${formatDuration(theirs.secondsMean * 1000)} per run at ${theirs.accuracyMean.toFixed(2)}%`;
  const beside = timesBeside(record, saved);
  if (beside.sameSetting) {
    const why = beside.engineDifference;
    return why === null
      ? `${head}: the same machine, setting and engine, so the seconds compare directly: this run was ${speedWords(theirs.secondsMean, mine.secondsMean)}.`
      : `${head}: the same machine and setting, but ${why}, so the seconds do not compare directly (this run was ${speedWords(theirs.secondsMean, mine.secondsMean)}).`;
  }
  const pair = withPreviousStep(input.reference, saved, hashes);
  const stepRatio = pair.length > 1 ? `; there, step ${record.step} was ${speedWords(summarize(pair[0]!).secondsMean, theirs.secondsMean)} than step ${record.step - 1}` : '';
  return `${head}, on another machine or setting: its seconds do not compare with yours, its ratios between steps do${stepRatio}.`;
}

/** The paragraph for `record`, from this session's ledger and the saved reference results. */
export async function liveSummary(session: LedgerSession, record: StepRecord, turns: AlternatingTiming | null = null): Promise<string> {
  return summaryMarkdown(await comparisonInput(session, record), RECIPES, turns);
}

/** Shows liveSummary as markdown in a notebook, and prints it elsewhere. */
export async function showLiveSummary(session: LedgerSession, record: StepRecord, turns: AlternatingTiming | null = null): Promise<void> {
  showMarkdown(await liveSummary(session, record, turns));
}
