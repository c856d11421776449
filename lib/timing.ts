/**
 * Timing like IPython's %%timeit: one labelled warm-up run left out, then n timed runs, reported
 * as "mean ± std per run (mean ± std. dev. of n runs)". The CLI and the notebooks share it so their
 * numbers line up. The clock belongs to the caller's function: it must return only after the
 * device has finished (a value read back), or the time is a lie on asynchronous backends.
 */

export interface TimedRuns<T> {
  /** Wall time of each timed run, milliseconds, warm-up excluded. */
  samplesMs: number[];
  meanMs: number;
  /** Population standard deviation, as %%timeit reports it. */
  stdMs: number;
  /** What each timed run returned, in order. */
  results: T[];
}

export interface TimeRunsOptions {
  /** Timed runs (>= 1). */
  runs: number;
  /** Untimed runs first, to compile kernels and fill caches (default 1). */
  warmups?: number;
  /** Called after each timed run, e.g. to draw progress. */
  onRun?: (index: number, elapsedMs: number) => void;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** The middle value, or the mean of the two middle values of an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Population standard deviation (divide by n), 0 for a single value. */
export function std(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, v) => sum + (v - m) * (v - m), 0) / values.length);
}

/** Runs `run` warm-up times untimed, then `runs` times timed; run(index) gets -1.. for warm-ups. */
export async function timeRuns<T>(
  run: (index: number) => Promise<T>,
  { runs, warmups = 1, onRun }: TimeRunsOptions,
): Promise<TimedRuns<T>> {
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be a positive integer, got ${runs}`);
  for (let w = 0; w < warmups; w++) await run(-1 - w);
  const samplesMs: number[] = [];
  const results: T[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    results.push(await run(i));
    const elapsedMs = performance.now() - started;
    samplesMs.push(elapsedMs);
    onRun?.(i, elapsedMs);
  }
  return { samplesMs, meanMs: mean(samplesMs), stdMs: std(samplesMs), results };
}

/**
 * A duration in the unit %%timeit would pick: '1 h 2 min 3 s', '2 min 52 s', '57.4 s', '762 ms',
 * '4.72 ms', '38.0 µs'. The unit is chosen after rounding, so a value never reads 60 s, 60 min or
 * 1000 of a unit: 59.95 s is '1 min 0 s', 999.6 ms is '1.00 s', 3599.6 s is '1 h 0 min 0 s'.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  const threeDigits = (value: number): string => value.toPrecision(3);
  if (Number(threeDigits(ms / 1000)) >= 60) {
    const totalSeconds = Math.round(ms / 1000);
    const hours = Math.floor(totalSeconds / 3600);
    const minutes = Math.floor((totalSeconds % 3600) / 60);
    const seconds = totalSeconds % 60;
    return hours > 0 ? `${hours} h ${minutes} min ${seconds} s` : `${minutes} min ${seconds} s`;
  }
  const units: Array<[number, string]> = [[ms / 1000, 's'], [ms, 'ms'], [ms * 1000, 'µs']];
  const [value, unit] = units.find(([v]) => Number(threeDigits(v)) >= 1) ?? units[2]!;
  return `${threeDigits(value)} ${unit}`;
}

/** '3.14 s ± 4.72 ms per run (mean ± std. dev. of 7 runs)', the %%timeit line. */
export function formatTiming(samplesMs: readonly number[]): string {
  const n = samplesMs.length;
  // one run has no spread to report
  if (n === 1) return `${formatDuration(samplesMs[0]!)} (1 run)`;
  return `${formatDuration(mean(samplesMs))} ± ${formatDuration(std(samplesMs))} per run (mean ± std. dev. of ${n} run${n === 1 ? '' : 's'})`;
}

/** 'mean ± std' of plain numbers with `digits` decimals, e.g. accuracies: '99.04 ± 0.07'. */
export function formatMeanStd(values: readonly number[], digits = 2): string {
  return `${mean(values).toFixed(digits)} ± ${std(values).toFixed(digits)}`;
}

/**
 * A ratio and its spread, 'mean ± std', with as many decimals as the spread needs to show its
 * first significant digit (at least 2, at most 4): '0.55 ± 0.05', '0.485 ± 0.004'. A spread
 * printed as 0.00 would claim more certainty than was measured.
 */
export function formatRatioSpread(ratioMean: number, ratioStd: number): string {
  const digits = spreadDigits(ratioStd);
  return `${ratioMean.toFixed(digits)} ± ${ratioStd.toFixed(digits)}`;
}

/** Decimals that show a spread's first significant digit: at least 2, at most 4 (formatRatioSpread). */
export function spreadDigits(spread: number): number {
  const needed = spread > 0 ? Math.ceil(-Math.log10(spread)) : 2;
  return Math.min(4, Math.max(2, needed));
}
