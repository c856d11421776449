/**
 * Notebook API: steps timed in turns on this session's machine (lib/alternating-timing.ts), shown
 * as a table of time per run and ratio to the first step, each with its spread over the rounds.
 */
import { timeInTurns, turnsSummary, type AlternatingTiming } from './alternating-timing';
import { currentLoadAverage, machineLabel } from './machine';
import type { Session } from './notebook';
import { sessionRecipe } from './notebook';
import { preprocessedCacheFile } from './preprocessed-cache';
import { show } from './table-notebook';
import type { TableLike } from './text-table';
import { formatDuration, formatRatioSpread } from './timing';

/** The table of a timing in turns: step, time per run, ratio to the first step, rounds. */
export function turnsTable(timing: AlternatingTiming): TableLike {
  const rows = turnsSummary(timing);
  const first = rows[0]!.step;
  return {
    columns: ['step', 'time per run (mean ± std)', `time / step ${first}'s (mean ± std)`, 'rounds'],
    values: rows.map((r) => [
      r.step,
      `${formatDuration(r.secondsMean * 1000)} ± ${formatDuration(r.secondsStd * 1000)}`,
      r.step === first ? '1 (reference)' : formatRatioSpread(r.ratioMean, r.ratioStd),
      r.rounds,
    ]),
  };
}

/**
 * Times `steps` in turns, `rounds` rounds (seeds 1..rounds), in the session's mode, printing every
 * run and then the table. Nothing is recorded in the ledger: the step measurements are.
 */
export async function timeStepsInTurns(session: Session, steps: readonly number[], rounds: number): Promise<AlternatingTiming> {
  const recipes = steps.map((step) => sessionRecipe(session, step));
  const load = currentLoadAverage();
  const timing = await timeInTurns(recipes, session.data, {
    rounds,
    cacheFile: session.mode === 'full' ? preprocessedCacheFile() : undefined,
    onRun: (round, step, seconds, accuracy) =>
      console.log(`round ${round + 1}, step ${step}: ${formatDuration(seconds * 1000)}${accuracy === null ? '' : `, test accuracy ${accuracy.toFixed(2)}%`}`),
  });
  show(turnsTable(timing), `steps ${steps.join(' and ')} in turns on ${machineLabel(session.machine)} (${session.backend.name}), ${session.mode} mode, load ${load} at the start`);
  return timing;
}
