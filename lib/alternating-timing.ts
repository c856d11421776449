/**
 * Two or more recipes timed in turns (A, B, A, B, ...), each after its own untimed warm-up, so that
 * every one of them meets the same machine: a shared machine's speed drifts over minutes, and a
 * ratio of times taken at different moments measures the drift as much as the recipes. The ratio
 * of each round (B's time over A's, same seed) is what the result reports, with its spread.
 */
import type { MnistArrays } from './data';
import { warmUp } from './measure';
import type { Recipe } from './recipes';
import { mean, std } from './timing';
import { trainRecipe } from './train';

export interface AlternatingOptions {
  rounds: number;
  /** Seed of the first round; round i uses seed + i for every recipe. */
  seed?: number;
  cacheFile?: string;
  signal?: AbortSignal;
  onRun?: (round: number, step: number, seconds: number, testAccuracy: number | null) => void;
}

export interface AlternatingTiming {
  steps: number[];
  /** seconds[i][r]: recipe i's time in round r (finished rounds only). */
  seconds: number[][];
  /** ratios[i][r] = seconds[i][r] / seconds[0][r]; ratios[0] is all ones. */
  ratios: number[][];
}

/** Times `recipes` in turns over `rounds` rounds; the first recipe is the reference of every ratio. */
export async function timeInTurns(recipes: readonly Recipe[], data: MnistArrays, options: AlternatingOptions): Promise<AlternatingTiming> {
  if (recipes.length < 2) throw new RangeError('timeInTurns needs at least two recipes to compare');
  if (!Number.isInteger(options.rounds) || options.rounds < 1) throw new RangeError(`rounds must be a whole number >= 1, got ${options.rounds}`);
  for (const recipe of recipes) await warmUp(recipe, data, options.signal);
  const seconds: number[][] = recipes.map(() => []);
  for (let round = 0; round < options.rounds && !options.signal?.aborted; round++) {
    const times: number[] = [];
    for (const recipe of recipes) {
      const result = await trainRecipe(recipe, data, { seed: (options.seed ?? 1) + round, cacheFile: options.cacheFile, signal: options.signal });
      if (result.partial) break;
      times.push(result.seconds);
      options.onRun?.(round, recipe.step, result.seconds, result.testAccuracy);
    }
    // a round counts only when every recipe finished it: its ratios compare like with like
    if (times.length === recipes.length) times.forEach((t, i) => seconds[i]!.push(t));
  }
  return timingOfRounds(recipes.map((r) => r.step), seconds);
}

/** The timing of rounds already run: seconds[i][r] is step i's time in round r; each ratio is to step 0's in the same round. */
export function timingOfRounds(steps: number[], seconds: number[][]): AlternatingTiming {
  return { steps, seconds, ratios: seconds.map((times) => times.map((t, r) => t / seconds[0]![r]!)) };
}

/** One recipe's time in the rounds, and its ratio to the first recipe's. */
export interface TurnsRow {
  step: number;
  secondsMean: number;
  secondsStd: number;
  ratioMean: number;
  ratioStd: number;
  rounds: number;
}

/** Mean and std of each recipe's time and of its ratio to the first, per recipe in order. */
export function turnsSummary(timing: AlternatingTiming): TurnsRow[] {
  return timing.steps.map((step, i) => ({
    step,
    secondsMean: mean(timing.seconds[i]!),
    secondsStd: std(timing.seconds[i]!),
    ratioMean: mean(timing.ratios[i]!),
    ratioStd: std(timing.ratios[i]!),
    rounds: timing.seconds[i]!.length,
  }));
}

/**
 * `step`'s row and the yardstick's (the first step timed) when `step` was timed in turns against
 * another step; null when there are no turns, or `step` is the yardstick or was not timed.
 */
export function turnsAgainst(timing: AlternatingTiming | null, step: number): { row: TurnsRow; yardstick: TurnsRow } | null {
  if (timing === null || timing.steps[0] === step) return null;
  const rows = turnsSummary(timing);
  const row = rows.find((r) => r.step === step);
  return row === undefined ? null : { row, yardstick: rows[0]! };
}
