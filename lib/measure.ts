/**
 * Measuring a recipe the way %%timeit does: one labelled warm-up (untimed), then n timed runs with
 * seeds seed, seed+1, ... The CLI, the benchmark and the notebooks all measure through here.
 */
import type { MnistArrays } from './data';
import { takeSubset } from './data';
import type { Recipe } from './recipes';
import { formatTiming } from './timing';
import { trainRecipe, type BatchProgress, type EpochRecord, type RunResult } from './train';

export interface MeasureOptions {
  runs: number;
  /** Seed of the first run; run i uses seed + i. */
  seed: number;
  /** Run a short untimed warm-up first, so kernel set-up is not timed (default true). */
  warmUp?: boolean;
  validationCount?: number;
  /** False: never evaluate the test set (lib/train.ts measureTest; needs validationCount). */
  measureTest?: boolean;
  /** The preprocessed cache file for the device data path (see lib/data.ts). */
  cacheFile?: string;
  signal?: AbortSignal;
  /** Called as each run starts and ends, and for its batches and epochs (e.g. a progress bar). */
  onRunStart?: (run: number, seed: number) => void;
  onBatch?: (run: number, progress: BatchProgress) => void;
  onEpoch?: (run: number, record: EpochRecord) => void;
  onRunEnd?: (run: number, result: RunResult) => void;
}

export interface Measurement {
  recipe: Recipe;
  results: RunResult[];
  /** '3.14 s ± 4.72 ms per run (mean ± std. dev. of 7 runs)' over the runs that finished. */
  timing: string;
  /** True when the measurement was interrupted: the last result may be partial. */
  partial: boolean;
}

/**
 * A few batches of the recipe on a slice of the data, so the first timed run does not pay for
 * kernel compilation and first-use allocation. Untimed; its result is thrown away.
 */
export async function warmUp(recipe: Recipe, data: MnistArrays, signal?: AbortSignal): Promise<void> {
  // enough batches for the JIT to settle, plus the epoch's last partial batch, whose shape the
  // timed run would otherwise meet for the first time (60,000 at 256 ends with 96 images)
  const trainCount = recipe.batchSize * 8 + (data.train.count % recipe.batchSize);
  const small = takeSubset(data, Math.min(data.train.count, trainCount), Math.min(data.test.count, 1000));
  await trainRecipe({ ...recipe, epochs: 1, stopAtAccuracy: null, evaluate: 'end' }, small, { seed: 0, signal });
}

export async function measureRecipe(recipe: Recipe, data: MnistArrays, options: MeasureOptions): Promise<Measurement> {
  // an interruption during the warm-up ends the measurement before any timed run
  if (options.warmUp ?? true) await warmUp(recipe, data, options.signal);
  const results: RunResult[] = [];
  for (let run = 0; run < options.runs; run++) {
    if (options.signal?.aborted) break;
    const seed = options.seed + run;
    options.onRunStart?.(run, seed);
    const result = await trainRecipe(recipe, data, {
      seed,
      validationCount: options.validationCount,
      measureTest: options.measureTest,
      cacheFile: options.cacheFile,
      signal: options.signal,
      onBatch: options.onBatch && ((p) => options.onBatch!(run, p)),
      onEpoch: options.onEpoch && ((r) => options.onEpoch!(run, r)),
    });
    results.push(result);
    options.onRunEnd?.(run, result);
    if (result.partial) break;
  }
  return measurementOf(recipe, results, options.runs);
}

/**
 * The measurement of `results`, runs of `recipe` of which `asked` were meant to finish: the timing
 * line covers the finished runs; it is partial when one was cut short or fewer ran than asked.
 */
export function measurementOf(recipe: Recipe, results: RunResult[], asked: number): Measurement {
  const finished = results.filter((r) => !r.partial);
  return {
    recipe,
    results,
    timing: finished.length > 0 ? formatTiming(finished.map((r) => r.seconds * 1000)) : 'no finished run',
    partial: results.some((r) => r.partial) || results.length < asked,
  };
}
