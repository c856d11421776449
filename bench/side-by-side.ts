/**
 * The bench's side by side: each step here and in PyTorch, in rounds. Round r runs every step
 * named, ours then PyTorch's, both on seed r, so that every time in a round meets the same load;
 * each round gives its own ratios (ours / PyTorch's, and each step / the first step named), and
 * the table gives their mean and spread. On a shared machine, whose speed drifts by tens of
 * percent within minutes, ratios within rounds are what compare; one run of each is one sample.
 */
import { timingOfRounds, turnsSummary } from '../lib/alternating-timing';
import { UsageError } from '../lib/errors';
import { mean, std } from '../lib/timing';
import type { NativeBuildName } from '../lib/wasm/native-build';
import type { PytorchResult } from './pytorch-reference';
import type { RecipeTiming } from './variant';

export const MAX_ROUNDS = 30;

/** `--rounds N`: 1 to MAX_ROUNDS rounds; anything else is a usage error naming the allowed values. */
export function parseRounds(text: string): number {
  const rounds = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(rounds >= 1 && rounds <= MAX_ROUNDS)) {
    throw new UsageError(`--rounds '${text}' is not a number of rounds: give a whole number from 1 to ${MAX_ROUNDS}`);
  }
  return rounds;
}

/** One step's run in one round: ours and PyTorch's (null where PyTorch is skipped), on the same seed. */
export interface SideBySideRun {
  round: number;
  seed: number;
  ours: RecipeTiming & { node: string; nativeBuild: NativeBuildName | null; engine: string };
  pytorch: PytorchResult | null;
}

/**
 * One step in one round when ours ran on several Node runtimes: each runtime's run (in the order
 * the runtimes were named) and PyTorch's, which every runtime's ratio shares.
 */
export interface SideBySideTurn {
  round: number;
  seed: number;
  ours: Array<SideBySideRun['ours']>;
  pytorch: PytorchResult | null;
}

/**
 * The side by side of each runtime (`runtimes` of them), from the turns of every round: runtime k's
 * rows are sideBySideRows of its own runs, each against the PyTorch run of its turn. Every turn
 * must hold a run of every runtime.
 */
export function sideBySideByRuntime(turns: SideBySideTurn[][], runtimes: number): SideBySideRow[][] {
  for (const turn of turns.flat()) {
    if (turn.ours.length !== runtimes) throw new Error(`round ${turn.round} holds ${turn.ours.length} run(s) of ours where ${runtimes} runtime(s) ran`);
  }
  return Array.from({ length: runtimes }, (_, k) =>
    sideBySideRows(turns.map((round) => round.map((turn) => ({ round: turn.round, seed: turn.seed, ours: turn.ours[k]!, pytorch: turn.pytorch })))));
}

/** Mean and population spread of some values, and how many. */
export interface Spread {
  mean: number;
  std: number;
  n: number;
}

/** One step over all rounds. */
export interface SideBySideRow {
  step: number;
  runs: SideBySideRun[];
  ours: Spread;
  pytorch: Spread | null;
  /** Ours / PyTorch's seconds, per round. */
  ratio: Spread | null;
  /** The largest of the rounds' ratios: the round that went worst for ours. */
  worstRatio: number | null;
  /**
   * Ours / PyTorch's seconds summed over all rounds: the ratio of the mean times. Where a step
   * stops at the first epoch that reaches 99%, each side's epochs are a draw of its seed, and a
   * run's time is that draw times the time of an epoch; the mean of the per-round ratios then
   * carries the spread of both draws (a 4-epoch run against a 2-epoch one counts double), while
   * the ratio of the sums tends, as rounds are added, to the ratio of the expected times to 99%,
   * which is what a user of either side waits. Only as sure as its rounds are many.
   */
  totalRatio: number | null;
  /**
   * Ours / PyTorch's seconds per epoch, per round. Where a step stops at the first epoch that
   * reaches 99% (steps 2-5), the two sides may take different epochs on the same seed (their
   * initial weights and dropout masks differ), which moves the whole-run ratio by a third or a half
   * either way; each epoch does the same work on both, so this ratio is the speed alone.
   */
  perEpoch: Spread | null;
  /** This step's seconds / the first step's, ours, per round (null for the first step itself). */
  againstFirst: Spread | null;
}

function spreadOf(values: number[]): Spread {
  return { mean: mean(values), std: std(values), n: values.length };
}

/**
 * The rows of the side by side from the runs of every round (`runs[r]` lists round r's runs, one
 * per step, in the order the steps were named). Every round must hold the same steps.
 */
export function sideBySideRows(runs: SideBySideRun[][]): SideBySideRow[] {
  if (runs.length === 0) return [];
  const steps = runs[0]!.map((run) => run.ours.step);
  for (const [r, round] of runs.entries()) {
    const got = round.map((run) => run.ours.step);
    if (got.join(',') !== steps.join(',')) throw new Error(`round ${r + 1} ran steps ${got.join(',')}, round 1 ran ${steps.join(',')}`);
  }
  // ours, and each step against the first, as the rounds in turns of lib/alternating-timing.ts summarise them
  const ours = turnsSummary(timingOfRounds(steps, steps.map((_, i) => runs.map((round) => round[i]!.ours.seconds))));
  return steps.map((step, i) => {
    const own = runs.map((round) => round[i]!);
    const withTorch = own.every((run) => run.pytorch !== null);
    const { secondsMean, secondsStd, ratioMean, ratioStd, rounds } = ours[i]!;
    const ratios = withTorch ? own.map((run) => run.ours.seconds / run.pytorch!.seconds) : null;
    const pytorch = withTorch ? spreadOf(own.map((run) => run.pytorch!.seconds)) : null;
    return {
      step,
      runs: own,
      ours: { mean: secondsMean, std: secondsStd, n: rounds },
      pytorch,
      ratio: ratios === null ? null : spreadOf(ratios),
      worstRatio: ratios === null ? null : Math.max(...ratios),
      // the same rounds on both sides: the ratio of the sums is that of the means
      totalRatio: pytorch === null ? null : secondsMean / pytorch.mean,
      perEpoch: withTorch ? spreadOf(own.map((run) => (run.ours.seconds / run.ours.epochs) / (run.pytorch!.seconds / run.pytorch!.epochs))) : null,
      againstFirst: i === 0 ? null : { mean: ratioMean, std: ratioStd, n: rounds },
    };
  });
}

/** '7.23' for one value, '7.23 ± 0.41' for several. */
function formatSpread(spread: Spread | null, digits: number): string {
  if (spread === null) return '-';
  return spread.n > 1 ? `${spread.mean.toFixed(digits)} ± ${spread.std.toFixed(digits)}` : spread.mean.toFixed(digits);
}

/** '99.01%', or '-' for no value. */
export function percentText(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(2)}%`;
}

/** The mean of the known values as percentText gives it. */
function meanPercent(values: Array<number | null>): string {
  const known = values.filter((v): v is number => v !== null);
  return percentText(known.length === 0 ? null : mean(known));
}

/** Each round's epochs, ours then PyTorch's: '3,2 / 2,2' (or '3,2' without PyTorch). */
function epochsText(row: SideBySideRow): string {
  const ours = row.runs.map((run) => run.ours.epochs).join(',');
  return row.pytorch === null ? ours : `${ours} / ${row.runs.map((run) => run.pytorch!.epochs).join(',')}`;
}

/**
 * The side-by-side table: per step, both times, the ratio (mean ± std over the rounds, the worst
 * round, of the summed times, and per epoch), this step against the first, both mean accuracies,
 * each round's epochs.
 */
export function formatSideBySide(rows: SideBySideRow[]): string {
  const first = rows[0]?.step;
  const header = ['step', 'ours (s)', 'PyTorch (s)', 'ours / PyTorch', 'worst round', 'summed', 'per epoch', `ours / step ${first ?? '-'}`, 'ours acc', 'PyTorch acc', 'epochs'];
  const body = rows.map((r) => [
    String(r.step),
    formatSpread(r.ours, 2),
    formatSpread(r.pytorch, 2),
    formatSpread(r.ratio, 3),
    r.worstRatio === null ? '-' : r.worstRatio.toFixed(3),
    r.totalRatio === null ? '-' : r.totalRatio.toFixed(3),
    formatSpread(r.perEpoch, 3),
    formatSpread(r.againstFirst, 3),
    meanPercent(r.runs.map((run) => run.ours.testAccuracy)),
    meanPercent(r.runs.map((run) => run.pytorch?.testAccuracy ?? null)),
    epochsText(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
