/**
 * Like compared with like. A result is set beside another only when both ran on the same machine,
 * backend and thread count, on the same data, in the same mode, with today's recipe for their
 * step (lib/ledger.ts newestComparablePerStep). Where two machines meet on one page (your run
 * beside the saved reference run), each block names its machine and never shares a speed-up.
 */
import { recipeHash } from './fingerprint';
import { isTry, newestComparablePerStep } from './ledger';
import { RECIPES, type Recipe } from './recipes';
import { formatSummaryTable, recordMode, summarize, whereLabel, type StepRecord } from './results';
import { modeRecipe, type RunMode } from './run-mode';
import { textTable } from './text-table';
import { formatDuration } from './timing';

/** Today's recipe hash of every step (of the recipes cut to the mode's budget outside full mode). */
export function currentRecipeHashes(mode: RunMode, recipes: readonly Recipe[] = RECIPES): Map<number, string> {
  return new Map(recipes.map((r) => [r.step, recipeHash(modeRecipe(r, mode))]));
}

/** The newest full record of `step` trained with today's recipe, from any machine; null if none. */
export function newestOfStep(records: readonly StepRecord[], step: number, hashes: ReadonlyMap<number, string>): StepRecord | null {
  const candidates = records.filter((r) => r.step === step && !r.partial && hashes.get(step) === r.recipeHash && !isTry(r));
  return candidates.reduce<StepRecord | null>((newest, r) => (newest === null || newest.date <= r.date ? r : newest), null);
}

/** `record` and the newest comparable record of the step before it (when there is one), in step order. */
export function withPreviousStep(records: readonly StepRecord[], record: StepRecord, hashes: ReadonlyMap<number, string>): StepRecord[] {
  const previous = newestComparablePerStep(records, { like: record, recipeHashes: hashes }).find((r) => r.step === record.step - 1);
  return previous ? [previous, record] : [record];
}

/** True when two records' times can be compared directly. */
export function sameSetting(a: StepRecord, b: StepRecord): boolean {
  return whereLabel(a) === whereLabel(b) && a.dataHash === b.dataHash && recordMode(a) === recordMode(b);
}

/** What the original has for a step it does not have: the words every table and summary shows. */
export const NO_ORIGINAL = 'none: this step is ours';

/** The original's GPU numbers for `steps`, one line each ('none: this step is ours' past its eight). */
export function originalLines(steps: readonly number[], recipes: readonly Recipe[] = RECIPES): string[] {
  return recipes
    .filter((r) => steps.includes(r.step))
    .map((r) =>
      r.reference === null
        ? `  step ${r.step}: ${NO_ORIGINAL}`
        : `  step ${r.step}: ${formatDuration(r.reference.seconds * 1000)} ± ${formatDuration(r.reference.secondsStd * 1000)}, ` +
          `${r.reference.accuracy}% (${r.reference.note})`,
    );
}

export interface ComparisonInput {
  /** This run's record and the records of the ledger it went to. */
  record: StepRecord;
  ledger: readonly StepRecord[];
  ledgerName: string;
  /** The saved reference records, or null when this run is itself being recorded as the reference. */
  reference: readonly StepRecord[] | null;
  referenceName: string;
  hashes: ReadonlyMap<number, string>;
}

/** A block of rows under a heading that names where they ran. */
function block(heading: string, rows: readonly StepRecord[]): string[] {
  return [heading, formatSummaryTable(rows.map(summarize))];
}

/**
 * This step beside the previous one: your run (with your previous step, when your ledger has a
 * comparable one), the saved reference run of both steps, and the original's GPU numbers.
 */
export function formatComparison(input: ComparisonInput): string {
  const { record, hashes } = input;
  const lines = block(`your run: ${whereLabel(record)} (${input.ledgerName})`, withPreviousStep(input.ledger, record, hashes));
  lines.push('');
  if (input.reference === null) {
    lines.push(`(this run is recorded as the saved reference run, in ${input.referenceName})`);
  } else if (recordMode(record) !== 'full') {
    lines.push(`(${recordMode(record)} mode: the saved reference runs are full runs, so none is set beside this one)`);
  } else {
    const saved = newestOfStep(input.reference, record.step, hashes);
    if (saved === null) {
      lines.push(`(no saved reference run of step ${record.step} with today's recipe in ${input.referenceName})`);
    } else {
      lines.push(...block(`saved reference run: ${whereLabel(saved)}, ${saved.date.slice(0, 10)} (${input.referenceName})`, withPreviousStep(input.reference, saved, hashes)));
      lines.push(
        sameSetting(saved, record)
          ? '  same machine, backend and threads as your run: the times compare directly'
          : '  another machine or setting than your run: compare the ratios between steps, not the seconds',
      );
    }
  }
  lines.push('', 'original (GTX 1660 Ti, PyTorch 1.8):', ...originalLines([record.step - 1, record.step]));
  return lines.join('\n');
}

export interface LadderRow {
  step: number;
  slug: string;
  change: string;
  seconds: number;
  secondsStd: number;
  /** Over the first step of this ladder (step 1 when present). */
  speedUp: number;
  epochs: number;
  accuracy: number;
  accuracyStd: number;
  runs: number;
  /** How many finished runs reached 99% test accuracy. */
  reached99: number;
  /** The original's GPU time for the step, and its speed-up over the ladder's first step; null past its eight. */
  originalSeconds: number | null;
  originalSpeedUp: number | null;
  /** Where this row ran, in words (the same for every row of one ladder). */
  where: string;
}

/**
 * A ladder from one machine and setting: the newest comparable record of each step that ran
 * today's recipe, anchored on `anchor` (by default the newest record of the highest step).
 */
export function ladderFrom(records: readonly StepRecord[], hashes: ReadonlyMap<number, string>, anchor?: StepRecord): LadderRow[] {
  const current = records.filter((r) => !r.partial && hashes.get(r.step) === r.recipeHash && !isTry(r));
  const like = anchor ?? [...current].sort((a, b) => b.step - a.step || b.date.localeCompare(a.date))[0];
  if (!like) return [];
  const chosen = newestComparablePerStep(records, { like, recipeHashes: hashes });
  const first = chosen[0];
  if (!first) return [];
  const firstSeconds = summarize(first).secondsMean;
  return chosen.map((record) => {
    const summary = summarize(record);
    return {
      step: record.step,
      slug: record.slug,
      change: record.change,
      seconds: summary.secondsMean,
      secondsStd: summary.secondsStd,
      speedUp: firstSeconds / summary.secondsMean,
      epochs: summary.epochsMean,
      accuracy: summary.accuracyMean,
      accuracyStd: summary.accuracyStd,
      runs: summary.runs,
      reached99: summary.reached99,
      originalSeconds: record.reference?.seconds ?? null,
      originalSpeedUp: first.reference === null || record.reference === null ? null : first.reference.seconds / record.reference.seconds,
      where: whereLabel(record),
    };
  });
}

/** One table of the comparison, under a caption that names where its rows ran. */
export interface ComparisonBlock {
  caption: string;
  /** Null when the block is only a note (no saved run to show, quick mode, ...). */
  table: { columns: string[]; values: string[][] } | null;
  /** Whether this block's seconds can be set beside your run's, in words. */
  note: string;
}

// '≥ 99%' reads 'K of N': N is the number of finished runs
const RUN_COLUMNS = ['step', 'change', 'time per run', 'epochs', 'test accuracy', '≥ 99%', 'speed-up'];

/** '1 min 11 s ± 6.80 s', or one time alone for a single run (no '± 0' for a run without spread). */
export function formatSeconds(mean: number, std: number, runs: number): string {
  return runs <= 1 ? formatDuration(mean * 1000) : `${formatDuration(mean * 1000)} ± ${formatDuration(std * 1000)}`;
}

/** Rows of records of one machine, the speed-up of each over the first (blank when there is one row). */
export function runRows(records: readonly StepRecord[]): string[][] {
  const summaries = records.map(summarize);
  const first = summaries[0];
  return summaries.map((s) => [
    String(s.step) + (s.partial ? ' (interrupted)' : ''),
    s.change,
    formatSeconds(s.secondsMean, s.secondsStd, s.runs),
    Number.isInteger(s.epochsMean) ? String(s.epochsMean) : s.epochsMean.toFixed(1),
    Number.isNaN(s.accuracyMean) ? 'n/a' : s.runs <= 1 ? `${s.accuracyMean.toFixed(2)}%` : `${s.accuracyMean.toFixed(2)}% ± ${s.accuracyStd.toFixed(3)}`,
    `${s.reached99} of ${s.runs}`,
    summaries.length === 1 || first === undefined ? '' : `${(first.secondsMean / s.secondsMean).toFixed(1)}x`,
  ]);
}

/**
 * The comparison as blocks of one machine each, for HTML tables in a notebook: your run (with
 * your previous step on the same machine, when there is one), the saved reference run, and the
 * original's GPU numbers. Each caption names its machine; each note says whether its seconds
 * compare directly with your run's.
 */
export function comparisonBlocks(input: ComparisonInput, recipes: readonly Recipe[] = RECIPES): ComparisonBlock[] {
  const { record, hashes } = input;
  const mine = withPreviousStep(input.ledger, record, hashes);
  const blocks: ComparisonBlock[] = [
    {
      caption: `your run: ${whereLabel(record)}${recordMode(record) === 'full' ? '' : `, ${recordMode(record)} mode`} (${input.ledgerName})`,
      table: { columns: RUN_COLUMNS, values: runRows(mine) },
      note:
        mine.length > 1
          ? `step ${record.step - 1} ran on the same machine, backend and threads: the speed-up compares directly`
          : `no step ${record.step - 1} on this machine in ${input.ledgerName} yet: run notebook ${recipes.find((r) => r.step === record.step - 1)?.slug ?? record.step - 1} for a speed-up`,
    },
  ];
  if (record.step === 1) blocks[0]!.note = 'step 1 is the yardstick: later steps are compared with it';
  const saved = input.reference === null || recordMode(record) !== 'full' ? null : newestOfStep(input.reference, record.step, hashes);
  if (input.reference === null) {
    blocks.push({ caption: 'saved reference run', table: null, note: `this run is recorded as the saved reference run, in ${input.referenceName}` });
  } else if (recordMode(record) !== 'full') {
    blocks.push({ caption: 'saved reference run', table: null, note: `${recordMode(record)} mode: the saved reference runs are full runs, so none is set beside this one` });
  } else if (saved === null) {
    blocks.push({ caption: 'saved reference run', table: null, note: `no saved reference run of step ${record.step} with today's recipe in ${input.referenceName}` });
  } else {
    blocks.push({
      caption: `saved reference run: ${whereLabel(saved)}, ${saved.date.slice(0, 10)} (${input.referenceName})`,
      table: { columns: RUN_COLUMNS, values: runRows(withPreviousStep(input.reference, saved, hashes)) },
      note: sameSetting(saved, record)
        ? 'same machine, backend and threads as your run: the seconds compare directly'
        : 'another machine or setting than your run: compare the speed-ups between steps, not the seconds',
    });
  }
  const steps = [record.step - 1, record.step];
  const original = recipes.filter((r) => steps.includes(r.step));
  const originalFirst = original[0];
  blocks.push({
    caption: 'original: GTX 1660 Ti, PyTorch 1.8',
    table: {
      columns: ['step', 'time per run', 'test accuracy', 'seen', 'speed-up'],
      values: original.map((r) =>
        r.reference === null
          ? [String(r.step), NO_ORIGINAL, '', '', '']
          : [
              String(r.step),
              `${formatDuration(r.reference.seconds * 1000)} ± ${formatDuration(r.reference.secondsStd * 1000)}`,
              `${r.reference.accuracy}%`,
              r.reference.note,
              original.length === 1 || originalFirst === undefined || originalFirst.reference === null ? '' : `${(originalFirst.reference.seconds / r.reference.seconds).toFixed(1)}x`,
            ],
      ),
    },
    note: 'another machine (a GPU): compare the speed-ups between steps, not the seconds',
  });
  return blocks;
}

/** The blocks as text: caption, aligned table, note; what a terminal shows. */
export function comparisonBlocksText(blocks: readonly ComparisonBlock[]): string {
  return blocks.map((b) => [b.caption, ...(b.table === null ? [] : [textTable(b.table)]), `  ${b.note}`].join('\n')).join('\n\n');
}
