/**
 * The ladder's rows (lib/comparison.ts LadderRow) as a notebook shows them: plain rows for a
 * DataFrame or a table, and the points of the ladder chart (lib/plot.ts LadderPoint). A step the
 * original does not have (step 9) reads 'none: this step is ours' where the GPU numbers go, and
 * has no GPU point on the chart.
 */
import { NO_ORIGINAL, type LadderRow } from './comparison';
import { engineTag } from './engine-id';
import type { LadderPoint } from './plot';

/** One ladder row for a table: numbers rounded for reading, the original's GPU columns in words where it has none. */
export interface LadderFrameRow {
  step: number;
  change: string;
  seconds: number;
  'speed-up': number;
  epochs: number;
  'accuracy %': number;
  '>= 99%': string;
  'GPU seconds': number | string;
  'GPU speed-up': number | string;
  /** lib/engine-id.ts engineTag: 8 hex digits naming the engine build, or 'not recorded'. */
  engine: string;
}

export function ladderFrameRows(rows: readonly LadderRow[]): LadderFrameRow[] {
  return rows.map((r) => ({
    step: r.step,
    change: r.slug.slice(3),
    seconds: +r.seconds.toFixed(2),
    'speed-up': +r.speedUp.toFixed(1),
    epochs: r.epochs,
    'accuracy %': +r.accuracy.toFixed(2),
    '>= 99%': `${r.reached99}/${r.runs}`,
    'GPU seconds': r.originalSeconds ?? NO_ORIGINAL,
    'GPU speed-up': r.originalSpeedUp === null ? '' : +r.originalSpeedUp.toFixed(1),
    engine: engineTag(r.engine ?? undefined),
  }));
}

/** The ladder chart's points: each step's time and accuracy, and the original's GPU time where it has one. */
export function ladderPoints(rows: readonly LadderRow[]): LadderPoint[] {
  return rows.map((r) => ({
    step: r.step,
    slug: `${r.step}`,
    seconds: r.seconds,
    secondsStd: r.secondsStd,
    accuracyPct: r.accuracy,
    ...(r.originalSeconds === null ? {} : { referenceSeconds: r.originalSeconds }),
  }));
}
