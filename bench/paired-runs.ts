/**
 * Two ways of training compared seed for seed: each seed trained both ways, alternating run by run
 * in one process, so that a shared machine's drift falls on both alike. The summary gives the
 * median seconds each way and the median of the per-seed ratios (b / a), and the test accuracy each
 * way (mean ± population std, how many runs reached the target) with the mean ± std of the per-seed
 * differences (b - a): the spread that says whether b trains as well as a.
 */
import { mean, median, std } from '../lib/timing';

export interface PairedRun {
  seed: number;
  seconds: number;
  testAccuracy: number;
}

export interface AccuracySpread {
  mean: number;
  std: number;
  /** Runs at or above the target. */
  reached: number;
}

export interface PairedSummary {
  seeds: number;
  seconds: { a: number; b: number; ratio: { median: number; min: number; max: number } };
  accuracy: { target: number; a: AccuracySpread; b: AccuracySpread; difference: { mean: number; std: number } };
}

function spread(values: readonly number[], target: number): AccuracySpread {
  return { mean: mean(values), std: std(values), reached: values.filter((v) => v >= target).length };
}

/** The summary of runs `a` and `b`, one of each per seed (the same seeds, any order). */
export function summarisePairs(a: readonly PairedRun[], b: readonly PairedRun[], target = 99): PairedSummary {
  if (a.length === 0) throw new RangeError('no runs to compare');
  const bySeed = new Map(b.map((run) => [run.seed, run]));
  if (bySeed.size !== b.length || a.length !== b.length || a.some((run) => !bySeed.has(run.seed))) {
    throw new RangeError(`the two ways must run the same seeds once each: ${a.map((r) => r.seed).join(',')} against ${b.map((r) => r.seed).join(',')}`);
  }
  const pairs = a.map((run) => [run, bySeed.get(run.seed)!] as const);
  const ratios = pairs.map(([x, y]) => y.seconds / x.seconds);
  const differences = pairs.map(([x, y]) => y.testAccuracy - x.testAccuracy);
  return {
    seeds: a.length,
    seconds: {
      a: median(a.map((r) => r.seconds)),
      b: median(b.map((r) => r.seconds)),
      ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
    },
    accuracy: {
      target,
      a: spread(a.map((r) => r.testAccuracy), target),
      b: spread(b.map((r) => r.testAccuracy), target),
      difference: { mean: mean(differences), std: std(differences) },
    },
  };
}
