/**
 * Like compared with like. A result is set beside another only when both ran on the same machine,
 * backend and thread count, on the same data, in the same mode, with today's recipe for their
 * step (lib/ledger.ts newestComparablePerStep). Where two machines meet on one page (your run
 * beside the saved reference run), each block names its machine and never shares a speed-up.
 * Records of another engine build (lib/engine-id.ts) stay in the tables, and every note says so.
 */
import { engineDifference, engineTag, sameEngine } from './engine-id';
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

/** True when two records ran on the same machine, backend, threads, data and mode (the engine aside). */
export function sameSetting(a: StepRecord, b: StepRecord): boolean {
  return whereLabel(a) === whereLabel(b) && a.dataHash === b.dataHash && recordMode(a) === recordMode(b);
}

/**
 * How `other`'s seconds stand beside `record`'s: another machine or setting (only ratios between
 * steps compare), or the same setting with the engine's difference in words (null: the same engine,
 * the seconds compare directly). The one decision every comparison note words its own way.
 */
export function timesBeside(record: StepRecord, other: StepRecord): { sameSetting: false } | { sameSetting: true; engineDifference: string | null } {
  return sameSetting(other, record) ? { sameSetting: true, engineDifference: engineDifference(record, other) } : { sameSetting: false };
}

/** Whether the saved reference run's seconds compare with your run's, in words. */
export function savedRunNote(saved: StepRecord, record: StepRecord, unit: 'seconds' | 'times'): string {
  const beside = timesBeside(record, saved);
  if (!beside.sameSetting) return `another machine or setting than your run: compare the ${unit === 'times' ? 'ratios' : 'speed-ups'} between steps, not the seconds`;
  const why = beside.engineDifference;
  return why === null
    ? `same machine, backend, threads and engine as your run: the ${unit} compare directly`
    : `same machine, backend and threads as your run, but ${why}: the ${unit} do not compare directly`;
}

/**
 * Whether the speed-up between a step and the step before it (`pair`, as withPreviousStep gives
 * them) is like for like, in words: the previous step's record may name another engine.
 */
export function previousStepNote(pair: readonly StepRecord[]): string {
  const [previous, record] = pair;
  if (previous === undefined || record === undefined) return '';
  const why = engineDifference(record, previous);
  return why === null
    ? `step ${previous.step} ran on the same machine, backend, threads and engine: the speed-up compares directly`
    : `step ${previous.step} ran on the same machine, backend and threads, but ${why}: the speed-up is not like for like`;
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
  const mine = withPreviousStep(input.ledger, record, hashes);
  const lines = block(`your run: ${whereLabel(record)} (${input.ledgerName})`, mine);
  if (mine.length > 1 && !sameEngine(mine[0]!, record)) lines.push(`  ${previousStepNote(mine)}`);
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
      const savedPair = withPreviousStep(input.reference, saved, hashes);
      lines.push(...block(`saved reference run: ${whereLabel(saved)}, ${saved.date.slice(0, 10)} (${input.referenceName})`, savedPair));
      lines.push(`  ${savedRunNote(saved, record, 'times')}`);
      if (savedPair.length > 1 && !sameEngine(savedPair[0]!, saved)) lines.push(`  in the saved run, ${previousStepNote(savedPair)}`);
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
  /** The engine that ran it (lib/engine-id.ts); null for a record made before engines were recorded. */
  engine: string | null;
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
      engine: record.engine ?? null,
    };
  });
}

/** '1-3, 5, 7-8': whole numbers in ascending order, runs of consecutive ones as ranges. */
export function stepsText(steps: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < steps.length; ) {
    let j = i;
    while (j + 1 < steps.length && steps[j + 1] === steps[j]! + 1) j++;
    parts.push(j === i ? String(steps[i]) : `${steps[i]}-${steps[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/**
 * Which rows of a ladder ran another engine than its last row (the newest step), and the line
 * that says so under a table; null when every row names the same engine.
 */
export function ladderEngineNote(rows: readonly LadderRow[]): { otherSteps: number[]; note: string } | null {
  const last = rows.at(-1);
  if (last === undefined) return null;
  const other = rows.slice(0, -1).filter((r) => r.engine === null || last.engine === null || r.engine !== last.engine);
  if (other.length === 0 && last.engine !== null) return null;
  const steps = other.map((r) => r.step);
  if (last.engine === null) {
    return {
      otherSteps: steps,
      note: `the record of step ${last.step} names no engine (made before engines were recorded): rows of different engine builds may stand side by side`,
    };
  }
  const verb = steps.length === 1 ? 'names' : 'name';
  const which = other.every((r) => r.engine === null) ? `${verb} no engine (made before engines were recorded)` : `${verb} another engine`;
  return {
    otherSteps: steps,
    note:
      `step ${last.step} ran engine ${engineTag(last.engine)} (${last.engine}); ${steps.length === 1 ? 'the record of step' : 'the records of steps'} ${stepsText(steps)} ${which}: ` +
      `their seconds and speed-ups are this machine's, but not like for like with step ${last.step}'s`,
  };
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
          ? previousStepNote(mine)
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
    const savedPair = withPreviousStep(input.reference, saved, hashes);
    const pairNote = savedPair.length > 1 && !sameEngine(savedPair[0]!, saved) ? `; in it, ${previousStepNote(savedPair)}` : '';
    blocks.push({
      caption: `saved reference run: ${whereLabel(saved)}, ${saved.date.slice(0, 10)} (${input.referenceName})`,
      table: { columns: RUN_COLUMNS, values: runRows(savedPair) },
      note: savedRunNote(saved, record, 'seconds') + pairNote,
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
