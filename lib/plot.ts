/**
 * The speedrun's figures, each built twice from the same explicit data: as a vega-lite spec (rendered
 * to PNG in plain Node, the image saved into notebooks, which shows everywhere, GitHub included) and
 * as plotly traces (interactive, for live notebooks and for the live charts of scripts and the CLI).
 *
 * Builders are pure: data in, spec out. Rendering lives in `renderSvg` / `renderPng`; showing
 * lives in `plot-notebook.ts` (tslab) and `plot-browser.ts` (a local web server), so that scripts
 * do not load the notebook kernel. plotly.js itself always comes from node_modules, never a CDN.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Field } from 'vega-lite/build/src/channeldef';
import type { LayerSpec } from 'vega-lite/build/src/spec';
import type { Layout as PlotlyLayout, PlotData } from 'plotly.js';
import { fontFamilyName } from './font-name';
import { didYouMean } from './did-you-mean';
import { FONT, readSetting } from './environment';
import { UsageError } from './errors';
import type { SweepRow } from './sweep';
import { formatDuration, mean, std } from './timing';

export type { TopLevelSpec };

/** One epoch of a run. Accuracy in percent; losses are mean negative log-likelihood per sample. */
export interface EpochPoint {
  epoch: number;
  testAccuracyPct: number;
  testLoss: number;
  /** Absent when the trainer did not average the training loss over the epoch. */
  trainLoss?: number;
}

/** One step of the ladder, as measured here, with the original's GPU time beside it. */
export interface LadderPoint {
  step: number;
  slug: string;
  seconds: number;
  secondsStd?: number;
  accuracyPct: number;
  referenceSeconds?: number;
}

export interface SeedReference {
  meanPct: number;
  stdPct: number;
  label: string;
}

/** The original's final recipe over many seeds. */
export const ORIGINAL_FINAL_ACCURACY: SeedReference = {
  meanPct: 99.04,
  stdPct: 0.066,
  label: 'original: 99.04% ± 0.066',
};

/** The goal every step must reach. */
export const TARGET_ACCURACY_PCT = 99;

/** One plotly trace and a plotly layout, every field optional as plotly.js takes them. */
export type Plot = Partial<PlotData>;
export type Layout = Partial<PlotlyLayout>;

/** An interactive figure: what plotly's `newPlot` takes. */
export interface PlotlyFigure {
  data: Plot[];
  layout: Layout;
}

const COLORS = { test: '#1f77b4', train: '#ff7f0e', target: '#d62728', reference: '#7f7f7f' };
const PANEL = { width: 320, height: 220 };

/** Mean and population standard deviation (numpy's default, as the original reports). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  if (values.length === 0) throw new RangeError('meanStd needs at least one value');
  return { mean: mean(values), std: std(values) };
}

/** A dashed line at the target accuracy, labelled, across a chart whose `axis` shows accuracy. */
function targetRule(targetPct: number, axis: 'x' | 'y'): LayerSpec<Field> {
  const position = { field: 'target', type: 'quantitative' } as const;
  const data = { values: [{ target: targetPct, label: `${targetPct}%` }] };
  const rule = { type: 'rule' as const, color: COLORS.target, strokeDash: [6, 4] };
  return axis === 'y'
    ? {
        data,
        layer: [
          { mark: rule, encoding: { y: position } },
          { mark: { type: 'text', color: COLORS.target, align: 'left', dx: 4, dy: -6, x: 0 }, encoding: { y: position, text: { field: 'label' } } },
        ],
      }
    : {
        data,
        layer: [
          { mark: rule, encoding: { x: position } },
          { mark: { type: 'text', color: COLORS.target, align: 'left', dx: 4, y: 0, baseline: 'top' }, encoding: { x: position, text: { field: 'label' } } },
        ],
      };
}

/**
 * [low, high] around `values` with at least `minMargin` on each side (and a tenth of their spread),
 * so no point sits on an edge and a tight set (99.00-99.01%) does not fill the whole axis.
 */
export function paddedDomain(values: readonly number[], minMargin: number): [number, number] {
  const low = Math.min(...values);
  const high = Math.max(...values);
  const margin = Math.max(minMargin, 0.1 * (high - low));
  return [low - margin, high + margin];
}

/** Fewer epochs than this are drawn as labelled points: a line through one or two dots says nothing. */
export const MIN_EPOCHS_FOR_LINE = 3;

/** Whole-number ticks only: an epoch 1.2 or half a seed does not exist. */
const WHOLE_TICKS = { tickMinStep: 1, format: 'd' } as const;

/**
 * Test accuracy per epoch with the 99% line, beside test (and train) loss per epoch. With three
 * epochs or more these are lines; with one or two (steps 6-8 train one or two fixed epochs) each
 * value is a dot with its number written beside it. The accuracy axis spans at least half a
 * percentage point around the data and the 99% line, so a single 99.01% is not drawn on an axis
 * from 99.000 to 99.010.
 */
export function epochCurvesSpec(
  points: readonly EpochPoint[],
  options: { title?: string; targetPct?: number } = {},
): TopLevelSpec {
  const targetPct = options.targetPct ?? TARGET_ACCURACY_PCT;
  const asLine = points.length >= MIN_EPOCHS_FOR_LINE;
  const losses = points.flatMap((p) => [
    { epoch: p.epoch, split: 'test', loss: p.testLoss, lossLabel: p.testLoss.toFixed(3) },
    ...(p.trainLoss === undefined ? [] : [{ epoch: p.epoch, split: 'train', loss: p.trainLoss, lossLabel: p.trainLoss.toFixed(3) }]),
  ]);
  const epochs = points.map((p) => p.epoch);
  // one or two epochs: half an epoch of room either side, and a tick on each epoch only
  const firstEpoch = Math.min(...epochs);
  const lastEpoch = Math.max(...epochs);
  const epochScale = asLine ? {} : { scale: { domain: [firstEpoch - 0.5, lastEpoch + 0.5], nice: false } };
  const epochTicks = asLine ? WHOLE_TICKS : { ...WHOLE_TICKS, values: epochs.filter((e, i) => epochs.indexOf(e) === i) };
  const epochAxis = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: epochTicks, ...epochScale } as const;
  const accuracyDomain = paddedDomain([...points.map((p) => p.testAccuracyPct), targetPct], 0.25);
  const mark = (color?: string) =>
    asLine ? { type: 'line' as const, point: true, ...(color ? { color } : {}) } : { type: 'point' as const, filled: true, size: 60, ...(color ? { color } : {}) };
  const valueLabel = (field: string) => ({ mark: { type: 'text' as const, align: 'left' as const, dx: 7, fontSize: 10 }, encoding: { text: { field, type: 'nominal' as const } } });
  const lossColor = {
    field: 'split',
    type: 'nominal',
    title: null,
    scale: { domain: ['test', 'train'], range: [COLORS.test, COLORS.train] },
  } as const;
  const lossY = { field: 'loss', type: 'quantitative', title: 'NLL loss', scale: { zero: false } } as const;
  const accuracyY = { field: 'accuracyPct', type: 'quantitative', title: 'accuracy (%)', scale: { domain: accuracyDomain, nice: false, zero: false } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    ...(options.title ? { title: options.title } : {}),
    hconcat: [
      {
        ...PANEL,
        title: 'test accuracy',
        layer: [
          {
            data: { values: points.map((p) => ({ epoch: p.epoch, accuracyPct: p.testAccuracyPct, accuracyLabel: `${p.testAccuracyPct.toFixed(2)}%` })) },
            layer: [
              { mark: mark(COLORS.test), encoding: { x: epochAxis, y: accuracyY } },
              ...(asLine ? [] : [{ ...valueLabel('accuracyLabel'), encoding: { ...valueLabel('accuracyLabel').encoding, x: epochAxis, y: accuracyY } }]),
            ],
          },
          targetRule(targetPct, 'y'),
        ],
      },
      {
        ...PANEL,
        title: 'loss',
        data: { values: losses },
        layer: [
          { mark: mark(), encoding: { x: epochAxis, y: lossY, color: lossColor } },
          ...(asLine ? [] : [{ ...valueLabel('lossLabel'), encoding: { ...valueLabel('lossLabel').encoding, x: epochAxis, y: lossY, color: lossColor } }]),
        ],
      },
    ],
  };
}

/** Learning rate at every batch (one-cycle steps): `lrPerBatch[i]` is the rate used for batch i. */
export function learningRateSpec(lrPerBatch: readonly number[], options: { title?: string } = {}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title ?? 'learning rate per batch',
    width: 2 * PANEL.width,
    height: PANEL.height,
    data: { values: lrPerBatch.map((lr, batch) => ({ batch, lr })) },
    mark: { type: 'line', color: COLORS.test },
    encoding: {
      x: { field: 'batch', type: 'quantitative', title: 'batch', scale: { nice: false } },
      y: { field: 'lr', type: 'quantitative', title: 'learning rate' },
    },
  };
}

/**
 * Training loss of every batch beside the learning rate it was trained with: for the one-cycle
 * steps, whose one or two epochs give too few points for a per-epoch curve.
 */
export function batchCurvesSpec(
  lossPerBatch: readonly number[],
  lrPerBatch: readonly number[],
  options: { title?: string } = {},
): TopLevelSpec {
  const panel = (field: 'loss' | 'lr', title: string, scale: object) => ({
    width: PANEL.width,
    height: PANEL.height,
    mark: { type: 'line' as const, color: field === 'loss' ? COLORS.train : COLORS.test },
    encoding: {
      x: { field: 'batch', type: 'quantitative' as const, title: 'batch', scale: { nice: false } },
      y: { field, type: 'quantitative' as const, title, scale },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title ?? 'training loss and learning rate per batch',
    data: { values: lossPerBatch.map((loss, batch) => ({ batch, loss, lr: lrPerBatch[batch] ?? null })) },
    hconcat: [panel('loss', 'training loss (log scale)', { type: 'log' }), panel('lr', 'learning rate', {})],
  };
}

/** Ticks of a log time axis, in seconds: about one per tenfold, each a round number of its unit (1 min, 10 min, 1 h). */
const LOG_TICKS_SECONDS = [0.01, 0.1, 1, 10, 60, 600, 3600, 36000];

/** Vega expression naming a tick in seconds as '1 s', '30 s', '1 min', '10 min', '1 h'. */
const SECONDS_LABEL =
  "datum.value >= 3600 ? format(datum.value / 3600, '~g') + ' h' : datum.value >= 60 ? format(datum.value / 60, '~g') + ' min' : format(datum.value, '~g') + ' s'";

/** What SECONDS_LABEL writes, for plotly's tick texts. */
export function secondsTickLabel(seconds: number): string {
  const round = (value: number): string => String(Number(value.toPrecision(3)));
  if (seconds >= 3600) return `${round(seconds / 3600)} h`;
  if (seconds >= 60) return `${round(seconds / 60)} min`;
  return `${round(seconds)} s`;
}

/**
 * A log-scale domain around `values`: a factor of 1.6 below the smallest, and 4 above the largest,
 * which leaves room for the text label written to the right of the slowest dot.
 */
function logDomain(values: readonly number[]): [number, number] {
  const positive = values.filter((v) => v > 0);
  return [Math.min(...positive) / 1.6, Math.max(...positive) * 4];
}

/** Time per step on a log scale (the original's GPU time beside ours), and accuracy per step. */
export function ladderSpec(points: readonly LadderPoint[], options: { title?: string; machine?: string } = {}): TopLevelSpec {
  const here = options.machine ?? 'this machine';
  const reference = 'original (GPU)';
  const times = points.flatMap((p) => [
    { slug: p.slug, run: here, seconds: p.seconds, label: formatDuration(p.seconds * 1000) },
    ...(p.referenceSeconds === undefined
      ? []
      : [{ slug: p.slug, run: reference, seconds: p.referenceSeconds, label: '' }]),
  ]);
  const spreads = points
    .filter((p) => p.secondsStd !== undefined && p.secondsStd > 0)
    .map((p) => ({ slug: p.slug, low: p.seconds - (p.secondsStd ?? 0), high: p.seconds + (p.secondsStd ?? 0) }))
    .map((s) => ({ ...s, low: Math.max(s.low, s.high * 1e-3) }));
  const order = [...points].sort((a, b) => a.step - b.step).map((p) => p.slug);
  const stepAxis = { field: 'slug', type: 'nominal', title: null, sort: order } as const;
  const secondsDomain = logDomain([...times.map((t) => t.seconds), ...spreads.flatMap((s) => [s.low, s.high])]);
  const secondsScale = { type: 'log', domain: secondsDomain, nice: false } as const;
  const secondsAxis = { values: LOG_TICKS_SECONDS.filter((t) => t >= secondsDomain[0] && t <= secondsDomain[1]), labelExpr: SECONDS_LABEL } as const;
  const accuracyScale = { domain: paddedDomain([...points.map((p) => p.accuracyPct), TARGET_ACCURACY_PCT], 0.1), nice: false, zero: false } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title ?? 'time to 99% per step',
    resolve: { scale: { y: 'shared' } },
    hconcat: [
      {
        width: 1.4 * PANEL.width,
        height: 24 * Math.max(points.length, 3),
        layer: [
          {
            data: { values: spreads },
            mark: { type: 'rule', color: COLORS.test },
            encoding: {
              y: stepAxis,
              x: { field: 'low', type: 'quantitative', scale: secondsScale },
              x2: { field: 'high' },
            },
          },
          {
            data: { values: times },
            layer: [
              {
                mark: { type: 'point', filled: true, size: 70 },
                encoding: {
                  y: stepAxis,
                  x: { field: 'seconds', type: 'quantitative', title: 'time per run (log scale)', scale: secondsScale, axis: secondsAxis },
                  color: {
                    field: 'run',
                    type: 'nominal',
                    title: null,
                    scale: { domain: [here, reference], range: [COLORS.test, COLORS.reference] },
                    legend: { orient: 'bottom' },
                  },
                  shape: { field: 'run', type: 'nominal', scale: { domain: [here, reference], range: ['circle', 'diamond'] } },
                },
              },
              {
                mark: { type: 'text', align: 'left', dx: 7, fontSize: 10 },
                encoding: {
                  y: stepAxis,
                  x: { field: 'seconds', type: 'quantitative', scale: secondsScale },
                  text: { field: 'label' },
                },
              },
            ],
          },
        ],
      },
      {
        width: 0.6 * PANEL.width,
        height: 24 * Math.max(points.length, 3),
        layer: [
          {
            data: { values: points.map((p) => ({ slug: p.slug, accuracyPct: p.accuracyPct })) },
            mark: { type: 'point', filled: true, size: 70, color: COLORS.test },
            encoding: {
              y: { ...stepAxis, axis: { labels: false, ticks: false, domain: false } },
              x: { field: 'accuracyPct', type: 'quantitative', title: 'test accuracy (%)', scale: accuracyScale },
            },
          },
          targetRule(TARGET_ACCURACY_PCT, 'x'),
        ],
      },
    ],
  };
}

/** Whole-number ticks from 0 up to `n` (at most about 8 of them): vega leaves out those past the tallest bar. */
export function countTicks(n: number): number[] {
  const step = Math.max(1, Math.ceil(n / 8));
  return Array.from({ length: Math.floor(n / step) + 1 }, (_, i) => i * step);
}

/** Histogram of final accuracies over seeds, our mean ± std against the original's. */
export function seedHistogramSpec(
  accuraciesPct: readonly number[],
  options: { title?: string; reference?: SeedReference } = {},
): TopLevelSpec {
  const reference = options.reference ?? ORIGINAL_FINAL_ACCURACY;
  const { mean, std } = meanStd(accuraciesPct);
  const ours = `here: ${mean.toFixed(2)}% ± ${std.toFixed(3)} (n=${accuraciesPct.length})`;
  const summaries = [
    { run: ours, mean, low: mean - std, high: mean + std },
    { run: reference.label, mean: reference.meanPct, low: reference.meanPct - reference.stdPct, high: reference.meanPct + reference.stdPct },
  ];
  const color = {
    field: 'run',
    type: 'nominal',
    title: null,
    scale: { domain: [ours, reference.label], range: [COLORS.test, COLORS.target] },
    legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400 },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title ?? `test accuracy over ${accuraciesPct.length} seeds`,
    width: 1.6 * PANEL.width,
    height: PANEL.height,
    layer: [
      {
        data: { values: summaries },
        mark: { type: 'rect', opacity: 0.12 },
        // zero: false everywhere, or the x scale stretches from 0% and squeezes every bar into one line
        encoding: { x: { field: 'low', type: 'quantitative', scale: { zero: false } }, x2: { field: 'high' }, color },
      },
      {
        data: { values: accuraciesPct.map((accuracyPct) => ({ accuracyPct })) },
        mark: { type: 'bar', color: COLORS.test, opacity: 0.55 },
        encoding: {
          x: { field: 'accuracyPct', type: 'quantitative', bin: { maxbins: 20 }, title: 'test accuracy (%)', scale: { zero: false } },
          // tickMinStep alone still lets vega put a tick at 0.5 when the tallest bar is 1: the ticks are listed
          y: { aggregate: 'count', type: 'quantitative', title: 'seeds', axis: { ...WHOLE_TICKS, values: countTicks(accuraciesPct.length) } },
        },
      },
      {
        data: { values: summaries },
        mark: { type: 'rule', strokeWidth: 2, strokeDash: [6, 3] },
        encoding: { x: { field: 'mean', type: 'quantitative', scale: { zero: false } }, color },
      },
    ],
  };
}

/** The test accuracies of one set of seeds, under the label its legend gives it. */
export interface SeedSeries {
  label: string;
  accuraciesPct: readonly number[];
}

/** Several seed series counted into the same bins: bin i is [lows[i], lows[i] + width). */
export interface SeedBins {
  width: number;
  lows: number[];
  series: Array<{ label: string; legend: string; n: number; meanPct: number; stdPct: number; reached99: number; counts: number[] }>;
}

/** Bin widths tried in order, in percentage points: the first that needs at most MAX_SEED_BINS bins wins. */
const SEED_BIN_WIDTHS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100];
export const MAX_SEED_BINS = 24;
// accuracies are often exact multiples of the bin width: a tiny slack keeps 99.05 in [99.05, 99.10)
const BIN_SLACK = 1e-9;

/**
 * Counts every series into one set of bins, shared so that the bars line up: the narrowest width
 * of SEED_BIN_WIDTHS (or `width`) that covers all the accuracies in at most MAX_SEED_BINS bins,
 * edges at multiples of the width. Accuracies that are not finite numbers (a run without a test
 * pass) are left out; a series left empty is refused.
 */
export function seedBins(series: readonly SeedSeries[], width?: number): SeedBins {
  if (series.length === 0) throw new RangeError('seedBins needs at least one series');
  const finite = series.map((s) => ({ label: s.label, values: s.accuraciesPct.filter((a) => Number.isFinite(a)) }));
  for (const s of finite) if (s.values.length === 0) throw new RangeError(`the series '${s.label}' has no test accuracy to count`);
  const all = finite.flatMap((s) => s.values);
  const low = Math.min(...all);
  const high = Math.max(...all);
  const binsFor = (w: number): number => Math.floor(high / w + BIN_SLACK) - Math.floor(low / w + BIN_SLACK) + 1;
  const chosen = width ?? SEED_BIN_WIDTHS.find((w) => binsFor(w) <= MAX_SEED_BINS) ?? 100;
  const first = Math.floor(low / chosen + BIN_SLACK);
  const count = binsFor(chosen);
  // edges as k * width, rounded to the width's decimals: 0.05 * 1981 is 99.05000000000001
  const decimals = Math.max(0, -Math.floor(Math.log10(chosen) + BIN_SLACK)) + 1;
  const lows = Array.from({ length: count }, (_, i) => Number(((first + i) * chosen).toFixed(decimals)));
  return {
    width: chosen,
    lows,
    series: finite.map(({ label, values }) => {
      const counts = new Array<number>(count).fill(0);
      for (const a of values) counts[Math.floor(a / chosen + BIN_SLACK) - first]! += 1;
      const { mean: meanPct, std: stdPct } = meanStd(values);
      const reached99 = values.filter((a) => a >= TARGET_ACCURACY_PCT).length;
      return { label, legend: `${label}: ${meanPct.toFixed(2)}% ± ${stdPct.toFixed(3)}, ${reached99} of ${values.length} ≥ 99%`, n: values.length, meanPct, stdPct, reached99, counts };
    }),
  };
}

const SERIES_COLORS = [COLORS.test, COLORS.train, '#2ca02c', '#9467bd'];

/**
 * Seed histograms of several series overlaid on shared bins (lib/plot.ts seedBins), each with its
 * mean as a dashed rule in its colour, and the 99% line: step 9's seeds beside step 8's, say.
 */
export function seedHistogramsSpec(series: readonly SeedSeries[], options: { title?: string; width?: number } = {}): TopLevelSpec {
  const bins = seedBins(series, options.width);
  const legends = bins.series.map((s) => s.legend);
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain: legends, range: legends.map((_, i) => SERIES_COLORS[i % SERIES_COLORS.length]!) },
    legend: { orient: 'bottom', direction: 'vertical', labelLimit: 700 },
  } as const;
  const bars = bins.series.flatMap((s) => bins.lows.map((low, i) => ({ series: s.legend, low, high: low + bins.width, count: s.counts[i]! })));
  const tallest = Math.max(...bins.series.flatMap((s) => s.counts));
  const domain = paddedDomain([bins.lows[0]!, bins.lows[bins.lows.length - 1]! + bins.width, TARGET_ACCURACY_PCT], bins.width);
  const x = { type: 'quantitative', scale: { zero: false, domain } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title ?? `test accuracy over seeds, ${bins.series.map((s) => `${s.label} (n=${s.n})`).join(' beside ')}`,
    width: 1.6 * PANEL.width,
    height: PANEL.height,
    layer: [
      {
        data: { values: bars },
        mark: { type: 'bar', opacity: 0.5, binSpacing: 0 },
        encoding: {
          x: { ...x, field: 'low', bin: 'binned', title: `test accuracy (%), bins of ${bins.width}` },
          x2: { field: 'high' },
          y: { field: 'count', type: 'quantitative', stack: null, title: 'seeds', axis: { ...WHOLE_TICKS, values: countTicks(tallest) } },
          color,
        },
      },
      {
        data: { values: bins.series.map((s) => ({ series: s.legend, mean: s.meanPct })) },
        mark: { type: 'rule', strokeWidth: 2, strokeDash: [6, 3] },
        encoding: { x: { ...x, field: 'mean' }, color },
      },
      targetRule(TARGET_ACCURACY_PCT, 'x'),
    ],
  };
}

/** One variant of a sweep as the scatter draws it. */
export interface SweepScatterPoint {
  variant: string;
  /** Time per run, mean and population std over its seeds. */
  seconds: number;
  secondsStd: number;
  /** The error bar, seconds ± std. */
  low: number;
  high: number;
  /** Validation accuracy, mean, percent. */
  accuracyPct: number;
  highlighted: boolean;
  /** The variant's text when highlighted, else ''. */
  label: string;
  /** Which side of its dot the label goes: away from the nearer right edge. */
  side: 'left' | 'right';
}

const HIGHLIGHT_COLOR = COLORS.train;

/**
 * The points of a sweep scatter and its padded axes: one per variant with runs (a variant with none
 * has no time to draw), highlighted when its label is in `highlight`. A highlight naming no
 * variant, or a sweep without a finished run, is refused in one line.
 */
export function sweepScatterPoints(
  rows: readonly SweepRow[],
  highlight: readonly string[] = [],
): { points: SweepScatterPoint[]; secondsDomain: [number, number]; accuracyDomain: [number, number] } {
  const variants = rows.map((r) => r.variant);
  for (const name of highlight) {
    if (!variants.includes(name)) {
      throw new UsageError(`highlight names '${name}', which is no variant of the sweep${didYouMean(name, variants)}; give variant labels as its table shows them, e.g. '${variants[0] ?? '(step 8 unchanged)'}'`);
    }
  }
  const ran = rows.filter((r) => r.runs > 0);
  if (ran.length === 0) throw new UsageError('no variant of the sweep has a finished run, so there is nothing to plot; run the sweep first (npx mnist-speedrun sweep GRID.json)');
  const lows = ran.map((r) => r.secondsMean - r.secondsStd);
  const highs = ran.map((r) => r.secondsMean + r.secondsStd);
  const secondsDomain = paddedDomain([...lows, ...highs], 0.05 * Math.max(...highs));
  const accuracyDomain = paddedDomain([...ran.map((r) => r.accuracyMean), TARGET_ACCURACY_PCT], 0.1);
  const middle = (secondsDomain[0] + secondsDomain[1]) / 2;
  const points = ran.map((r, i): SweepScatterPoint => {
    const highlighted = highlight.includes(r.variant);
    return {
      variant: r.variant,
      seconds: r.secondsMean,
      secondsStd: r.secondsStd,
      low: lows[i]!,
      high: highs[i]!,
      accuracyPct: r.accuracyMean,
      highlighted,
      label: highlighted ? r.variant : '',
      side: r.secondsMean > middle ? 'left' : 'right',
    };
  });
  return { points, secondsDomain, accuracyDomain };
}

const SWEEP_SCATTER_TITLE = 'time per run against validation accuracy, one point per variant';

/**
 * A sweep's search as a picture: time per run (mean ± std) across, validation accuracy (mean) up,
 * one dot per variant with runs, the 99% line dashed. Highlighted variants (the reference, the one
 * chosen) are drawn in another colour and named beside their dot; the others stay unlabelled.
 */
export function sweepScatterSpec(rows: readonly SweepRow[], options: { title?: string; highlight?: readonly string[] } = {}): TopLevelSpec {
  const { points, secondsDomain, accuracyDomain } = sweepScatterPoints(rows, options.highlight);
  const x = { field: 'seconds', type: 'quantitative', title: 'time per run (s), mean ± std', scale: { domain: secondsDomain, nice: false, zero: false } } as const;
  const y = { field: 'accuracyPct', type: 'quantitative', title: 'validation accuracy (%), mean', scale: { domain: accuracyDomain, nice: false, zero: false } } as const;
  const color = { condition: { test: 'datum.highlighted', value: HIGHLIGHT_COLOR }, value: COLORS.test };
  const labels = (side: 'left' | 'right') => ({
    transform: [{ filter: `datum.side === '${side}' && datum.label !== ''` }],
    mark: { type: 'text' as const, align: side === 'right' ? ('left' as const) : ('right' as const), dx: side === 'right' ? 5 : -5, dy: -9, fontSize: 10, color: HIGHLIGHT_COLOR },
    encoding: { x, y, text: { field: 'label' } },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title ?? SWEEP_SCATTER_TITLE,
    width: 1.6 * PANEL.width,
    height: 1.4 * PANEL.height,
    layer: [
      {
        data: { values: points },
        layer: [
          { mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.6 }, encoding: { x: { ...x, field: 'low' }, x2: { field: 'high' }, y, color } },
          { mark: { type: 'point', filled: true, size: 70 }, encoding: { x, y, color, tooltip: { field: 'variant' } } },
          labels('right'),
          labels('left'),
        ],
      },
      targetRule(TARGET_ACCURACY_PCT, 'y'),
    ],
  };
}

// ---- plotly versions of the same figures -------------------------------------------------------

type Shape = NonNullable<Layout['shapes']>[number];

/** The dashed target line; spans `from`..`to` on the other axis (plotly types lack "x domain" refs). */
function targetShape(targetPct: number, axis: 'x' | 'y', ref: { x: 'x' | 'x2'; y: 'y' }, from: number | string, to: number | string): Shape {
  const line = { color: COLORS.target, dash: 'dash' as const, width: 1.5 };
  return axis === 'y'
    ? { type: 'line', xref: ref.x, x0: from, x1: to, yref: ref.y, y0: targetPct, y1: targetPct, line }
    : { type: 'line', yref: ref.y, y0: from, y1: to, xref: ref.x, x0: targetPct, x1: targetPct, line };
}

export function epochCurvesPlotly(points: readonly EpochPoint[], options: { title?: string; targetPct?: number } = {}): PlotlyFigure {
  const targetPct = options.targetPct ?? TARGET_ACCURACY_PCT;
  const epochs = points.map((p) => p.epoch);
  const withTrain = points.filter((p) => p.trainLoss !== undefined);
  // as in the PNG: one or two epochs are labelled dots, not a line
  const asLine = points.length >= MIN_EPOCHS_FOR_LINE;
  const mode = asLine ? ('lines+markers' as const) : ('text+markers' as const);
  const labels = (values: readonly number[], digits: number, unit = ''): Partial<Plot> =>
    asLine ? {} : { text: values.map((v) => `${v.toFixed(digits)}${unit}`), textposition: 'middle right' };
  const accuracies = points.map((p) => p.testAccuracyPct);
  const data: Plot[] = [
    { type: 'scatter', mode, name: 'test accuracy (%)', x: epochs, y: accuracies, line: { color: COLORS.test }, ...labels(accuracies, 2, '%') },
    { type: 'scatter', mode, name: 'test loss', x: epochs, y: points.map((p) => p.testLoss), xaxis: 'x2', yaxis: 'y2', line: { color: COLORS.test, dash: 'dot' }, ...labels(points.map((p) => p.testLoss), 3) },
  ];
  if (withTrain.length > 0) {
    const trainLosses = withTrain.map((p) => p.trainLoss ?? NaN);
    data.push({ type: 'scatter', mode, name: 'train loss', x: withTrain.map((p) => p.epoch), y: trainLosses, xaxis: 'x2', yaxis: 'y2', line: { color: COLORS.train }, ...labels(trainLosses, 3) });
  }
  const epochRange = asLine ? {} : { range: [Math.min(...epochs) - 0.5, Math.max(...epochs) + 0.5] };
  return {
    data,
    layout: {
      title: { text: options.title ?? '' },
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: { title: { text: 'epoch' }, dtick: 1, tickformat: 'd', ...epochRange },
      yaxis: { title: { text: 'test accuracy (%)' }, range: paddedDomain([...accuracies, targetPct], 0.25) },
      xaxis2: { title: { text: 'epoch' }, dtick: 1, tickformat: 'd', ...epochRange },
      yaxis2: { title: { text: 'NLL loss' } },
      shapes: [targetShape(targetPct, 'y', { x: 'x', y: 'y' }, Math.min(...epochs) - (asLine ? 0 : 0.5), Math.max(...epochs) + (asLine ? 0 : 0.5))],
    },
  };
}

export function learningRatePlotly(lrPerBatch: readonly number[], options: { title?: string } = {}): PlotlyFigure {
  return {
    data: [{ type: 'scatter', mode: 'lines', name: 'learning rate', x: lrPerBatch.map((_, batch) => batch), y: [...lrPerBatch], line: { color: COLORS.test } }],
    layout: { title: { text: options.title ?? 'learning rate per batch' }, xaxis: { title: { text: 'batch' } }, yaxis: { title: { text: 'learning rate' } } },
  };
}

export function ladderPlotly(points: readonly LadderPoint[], options: { title?: string; machine?: string } = {}): PlotlyFigure {
  const sorted = [...points].sort((a, b) => a.step - b.step);
  const slugs = sorted.map((p) => p.slug);
  const withReference = sorted.filter((p) => p.referenceSeconds !== undefined);
  const [fastest, slowest] = logDomain([...sorted.map((p) => p.seconds), ...withReference.map((p) => p.referenceSeconds ?? NaN)]);
  const secondsTicks = LOG_TICKS_SECONDS.filter((t) => t >= fastest && t <= slowest);
  return {
    data: [
      {
        type: 'scatter', mode: 'markers', name: options.machine ?? 'this machine', y: slugs, x: sorted.map((p) => p.seconds),
        error_x: { type: 'data', array: sorted.map((p) => p.secondsStd ?? 0), visible: true }, marker: { color: COLORS.test, size: 9 },
      },
      { type: 'scatter', mode: 'markers', name: 'original (GPU)', y: withReference.map((p) => p.slug), x: withReference.map((p) => p.referenceSeconds ?? NaN), marker: { color: COLORS.reference, symbol: 'diamond', size: 9 } },
      { type: 'scatter', mode: 'markers', name: 'test accuracy (%)', y: slugs, x: sorted.map((p) => p.accuracyPct), xaxis: 'x2', yaxis: 'y', marker: { color: COLORS.test, size: 9 }, showlegend: false },
    ],
    layout: {
      title: { text: options.title ?? 'time to 99% per step' },
      xaxis: { type: 'log', title: { text: 'time per run (log scale)' }, domain: [0, 0.68], tickvals: secondsTicks, ticktext: secondsTicks.map(secondsTickLabel) },
      xaxis2: { title: { text: 'test accuracy (%)' }, domain: [0.74, 1], range: paddedDomain([...sorted.map((p) => p.accuracyPct), TARGET_ACCURACY_PCT], 0.1) },
      yaxis: { autorange: 'reversed', type: 'category' },
      shapes: [targetShape(TARGET_ACCURACY_PCT, 'x', { x: 'x2', y: 'y' }, slugs[0] ?? '', slugs[slugs.length - 1] ?? '')],
    },
  };
}

export function seedHistogramPlotly(accuraciesPct: readonly number[], options: { title?: string; reference?: SeedReference } = {}): PlotlyFigure {
  const reference = options.reference ?? ORIGINAL_FINAL_ACCURACY;
  const { mean, std } = meanStd(accuraciesPct);
  const band = (center: number, half: number, color: string): Shape => ({
    type: 'rect', yref: 'paper', y0: 0, y1: 1, xref: 'x', x0: center - half, x1: center + half, fillcolor: color, opacity: 0.12, line: { width: 0 },
  });
  const rule = (x: number, color: string): Shape => ({
    type: 'line', yref: 'paper', y0: 0, y1: 1, xref: 'x', x0: x, x1: x, line: { color, dash: 'dash', width: 2 },
  });
  return {
    data: [{ type: 'histogram', x: [...accuraciesPct], name: `here: ${mean.toFixed(2)}% ± ${std.toFixed(3)} (n=${accuraciesPct.length})`, marker: { color: COLORS.test } }],
    layout: {
      title: { text: options.title ?? `test accuracy over ${accuraciesPct.length} seeds (${reference.label})` },
      xaxis: { title: { text: 'test accuracy (%)' } },
      yaxis: { title: { text: 'seeds' }, dtick: 1, tickformat: 'd' },
      showlegend: true,
      shapes: [band(mean, std, COLORS.test), rule(mean, COLORS.test), band(reference.meanPct, reference.stdPct, COLORS.target), rule(reference.meanPct, COLORS.target)],
    },
  };
}

/** The plotly version of seedHistogramsSpec: the same bins as bars, overlaid, the means and the 99% line. */
export function seedHistogramsPlotly(series: readonly SeedSeries[], options: { title?: string; width?: number } = {}): PlotlyFigure {
  const bins = seedBins(series, options.width);
  const centers = bins.lows.map((low) => low + bins.width / 2);
  const colorOf = (i: number): string => SERIES_COLORS[i % SERIES_COLORS.length]!;
  return {
    data: bins.series.map((s, i) => ({ type: 'bar', name: s.legend, x: centers, y: s.counts, width: bins.width, opacity: 0.5, marker: { color: colorOf(i) } })),
    layout: {
      title: { text: options.title ?? `test accuracy over seeds, ${bins.series.map((s) => `${s.label} (n=${s.n})`).join(' beside ')}` },
      barmode: 'overlay',
      xaxis: { title: { text: `test accuracy (%), bins of ${bins.width}` } },
      yaxis: { title: { text: 'seeds' }, dtick: 1, tickformat: 'd' },
      showlegend: true,
      shapes: [
        ...bins.series.map((s, i): Shape => ({ type: 'line', yref: 'paper', y0: 0, y1: 1, xref: 'x', x0: s.meanPct, x1: s.meanPct, line: { color: colorOf(i), dash: 'dash', width: 2 } })),
        { type: 'line', yref: 'paper', y0: 0, y1: 1, xref: 'x', x0: TARGET_ACCURACY_PCT, x1: TARGET_ACCURACY_PCT, line: { color: COLORS.target, dash: 'dot', width: 1.5 } },
      ],
    },
  };
}

/** The plotly version of sweepScatterSpec: hovering a dot gives its variant's text. */
export function sweepScatterPlotly(rows: readonly SweepRow[], options: { title?: string; highlight?: readonly string[] } = {}): PlotlyFigure {
  const { points, secondsDomain, accuracyDomain } = sweepScatterPoints(rows, options.highlight);
  // plotly's types take one text position per trace, so highlighted dots come as a trace per side
  const trace = (subset: readonly SweepScatterPoint[], highlighted: boolean, side: 'left' | 'right'): Plot => {
    const color = highlighted ? HIGHLIGHT_COLOR : COLORS.test;
    return {
      type: 'scatter',
      mode: highlighted ? 'text+markers' : 'markers',
      name: highlighted ? 'highlighted' : 'other variants',
      x: subset.map((p) => p.seconds),
      y: subset.map((p) => p.accuracyPct),
      error_x: { type: 'data', array: subset.map((p) => p.secondsStd), visible: true, color },
      marker: { color, size: 9 },
      hovertext: subset.map((p) => p.variant),
      hoverinfo: 'x+y+text',
      ...(highlighted ? { text: subset.map((p) => p.label), textposition: side === 'right' ? 'middle right' : 'middle left' } : {}),
    };
  };
  const traces = [
    trace(points.filter((p) => !p.highlighted), false, 'right'),
    trace(points.filter((p) => p.highlighted && p.side === 'right'), true, 'right'),
    trace(points.filter((p) => p.highlighted && p.side === 'left'), true, 'left'),
  ];
  return {
    data: traces.filter((t) => (t.x?.length ?? 0) > 0),
    layout: {
      title: { text: options.title ?? SWEEP_SCATTER_TITLE },
      xaxis: { title: { text: 'time per run (s), mean ± std' }, range: secondsDomain },
      yaxis: { title: { text: 'validation accuracy (%), mean' }, range: accuracyDomain },
      showlegend: false,
      shapes: [targetShape(TARGET_ACCURACY_PCT, 'y', { x: 'x', y: 'y' }, secondsDomain[0], secondsDomain[1])],
    },
  };
}

// ---- rendering ---------------------------------------------------------------------------------

export interface RenderOptions {
  /** Width of the PNG in pixels; wins over `scale`. */
  width?: number;
  /** Pixels per SVG unit; 2 keeps text crisp on high-density screens. */
  scale?: number;
}

export interface RasterImage {
  png: Uint8Array;
  width: number;
  height: number;
  /** The font file the text was drawn with and the family name read from it. */
  font: ChartFont;
}

export interface ChartFont {
  file: string;
  /** From the file's own name table, e.g. 'DejaVu Sans'. */
  family: string;
}

export class FontNotFoundError extends Error {
  constructor(detail = 'no font found for chart text') {
    super(`${detail}: install a sans-serif font (Debian: apt-get install fonts-dejavu-core) or set MNIST_SPEEDRUN_FONT to a .ttf file`);
    this.name = 'FontNotFoundError';
  }
}

/** Places a sans-serif font usually sits; resvg draws no text at all without one. */
const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', // Debian, Ubuntu: fonts-dejavu-core
  '/usr/share/fonts/TTF/DejaVuSans.ttf', // Arch
  '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf', // Fedora
  '/System/Library/Fonts/Supplemental/Arial.ttf', // macOS
  '/Library/Fonts/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

/**
 * The font file charts are drawn with: `MNIST_SPEEDRUN_FONT` (a readable font file, else a
 * UsageError naming it: lib/environment.ts), else the first candidate present.
 */
export function findFontFile(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = readSetting(FONT, env);
  if (chosen !== undefined) return chosen;
  const found = FONT_CANDIDATES.find((file) => existsSync(file));
  if (found === undefined) throw new FontNotFoundError();
  return found;
}

/** The chart font: its file (see findFontFile) and the family name stored in that file. */
export function chartFont(env: NodeJS.ProcessEnv = process.env): ChartFont {
  const file = findFontFile(env);
  const family = fontFamilyName(readFileSync(file));
  if (family === null) throw new FontNotFoundError(`${file} is not a TrueType/OpenType font with a family name`);
  return { file, family };
}

/** Vega's own SVG, drawn without a browser (text widths are estimated, which is close enough). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises an SVG with one known font, so charts look the same on every machine. */
export function rasterise(svg: string, options: RenderOptions = {}): RasterImage {
  const font = chartFont();
  const fitTo: ResvgRenderOptions['fitTo'] = options.width !== undefined
    ? { mode: 'width', value: options.width }
    : { mode: 'zoom', value: options.scale ?? 2 };
  const resvg = new Resvg(svg, {
    fitTo,
    background: 'white',
    // one font file, no system scan: fast, and the same glyphs everywhere; vega's text asks for
    // 'sans-serif', which resolves to the family that file holds
    font: { fontFiles: [font.file], loadSystemFonts: false, defaultFontFamily: font.family, sansSerifFamily: font.family },
  });
  const image = resvg.render();
  return { png: new Uint8Array(image.asPng()), width: image.width, height: image.height, font };
}

/** vega-lite spec -> vega -> SVG -> PNG bytes, in plain Node. */
export async function renderPng(spec: TopLevelSpec, options: RenderOptions = {}): Promise<Uint8Array> {
  return rasterise(await renderSvg(spec), options).png;
}
