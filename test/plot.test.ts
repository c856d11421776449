import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  batchCurvesSpec,
  chartFont,
  epochCurvesPlotly,
  epochCurvesSpec,
  findFontFile,
  ladderPlotly,
  ladderSpec,
  learningRateSpec,
  meanStd,
  rasterise,
  renderPng,
  renderSvg,
  seedBins,
  seedHistogramPlotly,
  seedHistogramsPlotly,
  seedHistogramsSpec,
  seedHistogramSpec,
  sweepScatterPlotly,
  sweepScatterSpec,
  type EpochPoint,
  type LadderPoint,
  type TopLevelSpec,
} from '../lib/plot';
import { UsageError } from '../lib/errors';
import type { SweepRow } from '../lib/sweep';

const epochs: EpochPoint[] = [
  { epoch: 1, testAccuracyPct: 98.1, testLoss: 0.061, trainLoss: 0.21 },
  { epoch: 2, testAccuracyPct: 98.9, testLoss: 0.037, trainLoss: 0.06 },
  { epoch: 3, testAccuracyPct: 99.2, testLoss: 0.029, trainLoss: 0.04 },
];
const ladder: LadderPoint[] = [
  { step: 8, slug: '08-final', seconds: 9.5, secondsStd: 0.3, accuracyPct: 99.05, referenceSeconds: 2.5 },
  { step: 1, slug: '01-baseline', seconds: 900, accuracyPct: 99.2, referenceSeconds: 172 },
];

/** Every `data.values` array in a spec, however deeply layered or concatenated. */
function dataValues(node: unknown): Record<string, unknown>[] {
  if (Array.isArray(node)) return node.flatMap(dataValues);
  if (typeof node !== 'object' || node === null) return [];
  const own = 'data' in node && typeof node.data === 'object' && node.data !== null && 'values' in node.data && Array.isArray(node.data.values)
    ? (node.data.values as Record<string, unknown>[])
    : [];
  return [...own, ...Object.entries(node).filter(([key]) => key !== 'data').flatMap(([, value]) => dataValues(value))];
}

function contains(node: unknown, predicate: (value: Record<string, unknown>) => boolean): boolean {
  if (Array.isArray(node)) return node.some((item) => contains(item, predicate));
  if (typeof node !== 'object' || node === null) return false;
  const record = node as Record<string, unknown>;
  return predicate(record) || Object.values(record).some((value) => contains(value, predicate));
}

/** Width and height from the IHDR chunk, after checking the PNG signature. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(Buffer.from(png.subarray(12, 16)).toString('ascii'), 'IHDR');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

test('meanStd is the population standard deviation', () => {
  const { mean, std } = meanStd([1, 2, 3, 4]);
  assert.equal(mean, 2.5);
  assert.ok(Math.abs(std - Math.sqrt(1.25)) < 1e-12);
  assert.throws(() => meanStd([]), RangeError);
});

test('epoch curves carry every accuracy, both losses and the 99% line', () => {
  const spec = epochCurvesSpec(epochs, { title: '06-one-cycle' });
  const values = dataValues(spec);
  for (const p of epochs) {
    assert.ok(values.some((v) => v.epoch === p.epoch && v.accuracyPct === p.testAccuracyPct));
    assert.ok(values.some((v) => v.epoch === p.epoch && v.split === 'test' && v.loss === p.testLoss));
    assert.ok(values.some((v) => v.epoch === p.epoch && v.split === 'train' && v.loss === p.trainLoss));
  }
  assert.ok(values.some((v) => v.target === 99));
  assert.ok(contains(spec, (node) => node.type === 'rule'));
  assert.equal(spec.title, '06-one-cycle');
});

test('epoch curves leave out train loss when the run did not record it', () => {
  const values = dataValues(epochCurvesSpec(epochs.map(({ trainLoss: _, ...rest }) => rest)));
  assert.ok(!values.some((v) => v.split === 'train'));
  assert.equal(values.filter((v) => v.split === 'test').length, epochs.length);
});

test('learning rate has one point per batch, in order', () => {
  const lrs = [0.001, 0.004, 0.01, 0.005, 0.0001];
  const values = dataValues(learningRateSpec(lrs));
  assert.deepEqual(values, lrs.map((lr, batch) => ({ batch, lr })));
});

test('batch curves pair every batch loss with its learning rate, loss on a log scale', async () => {
  const losses = [2.3, 1.1, 0.4, 0.2];
  const lrs = [0.0004, 0.01, 0.005, 0.000001];
  const spec = batchCurvesSpec(losses, lrs, { title: 'step 8' });
  assert.deepEqual(dataValues(spec), losses.map((loss, batch) => ({ batch, loss, lr: lrs[batch] })));
  assert.match(JSON.stringify(spec), /"type":"log"/);
  const png = await renderPng(spec);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
});

test('ladder puts time on a log scale, steps in order, the original beside ours, accuracy with its 99% line', () => {
  const spec = ladderSpec(ladder);
  assert.ok(contains(spec, (node) => node.field === 'seconds' && contains(node.scale, (scale) => scale.type === 'log')));
  assert.ok(contains(spec, (node) => node.field === 'slug' && Array.isArray(node.sort) && node.sort.join() === '01-baseline,08-final'));
  const values = dataValues(spec);
  assert.ok(values.some((v) => v.slug === '01-baseline' && v.seconds === 172 && v.run === 'original (GPU)'));
  assert.ok(values.some((v) => v.slug === '08-final' && v.seconds === 9.5 && v.run === 'this machine'));
  assert.ok(values.some((v) => v.slug === '08-final' && v.low === 9.2 && v.high === 9.8));
  assert.ok(values.some((v) => v.slug === '01-baseline' && v.accuracyPct === 99.2));
  assert.ok(values.some((v) => v.target === 99));
});

test('seed histogram shows every seed, our mean ± std and the original 99.04% ± 0.066', () => {
  const accuracies = [99.0, 99.1, 99.05, 98.95];
  // by hand: mean 99.025; deviations ±0.025, ±0.075; variance (2·0.025² + 2·0.075²)/4 = 0.003125
  const mean = 99.025;
  // std = sqrt(0.003125) = 0.0559017, so the band is 98.9690983 .. 99.0809017
  const close = (a: unknown, b: number): boolean => Math.abs(Number(a) - b) < 1e-9;
  const values = dataValues(seedHistogramSpec(accuracies));
  assert.deepEqual(values.filter((v) => 'accuracyPct' in v).map((v) => v.accuracyPct), accuracies);
  const ours = values.find((v) => close(v.mean, mean));
  assert.ok(ours !== undefined, 'our mean is in the spec');
  assert.ok(Math.abs(Number(ours.low) - 98.9690983) < 1e-6 && Math.abs(Number(ours.high) - 99.0809017) < 1e-6, `${String(ours.low)}..${String(ours.high)}`);
  assert.match(String(ours.run), /± 0\.056 \(n=4\)/);
  const original = values.find((v) => v.mean === 99.04);
  assert.ok(original !== undefined);
  assert.ok(Math.abs(Number(original.high) - Number(original.low) - 2 * 0.066) < 1e-9);
});

test('plotly figures hold the same data: log time axis, 99% target, reference line', () => {
  const curves = epochCurvesPlotly(epochs);
  assert.deepEqual(curves.data[0]?.y, epochs.map((p) => p.testAccuracyPct));
  assert.ok(curves.layout.shapes?.some((s) => s.y0 === 99 && s.y1 === 99));
  const steps = ladderPlotly(ladder);
  assert.equal(steps.layout.xaxis?.type, 'log');
  assert.deepEqual(steps.data[0]?.y, ['01-baseline', '08-final']);
  const seeds = seedHistogramPlotly([99, 99.1]);
  assert.ok(seeds.layout.shapes?.some((s) => s.x0 === 99.04));
});

test('renderPng returns a PNG whose size follows the width option', async () => {
  const spec = learningRateSpec([0.1, 0.2, 0.3]);
  const defaultScale = pngSize(await renderPng(spec));
  const narrow = pngSize(await renderPng(spec, { width: 300 }));
  assert.equal(narrow.width, 300);
  assert.ok(defaultScale.width > 300 && defaultScale.height > 0);
  const double = pngSize(await renderPng(spec, { scale: 1 }));
  assert.ok(Math.abs(defaultScale.width - 2 * double.width) <= 1);
});

test('different figures give different images', async () => {
  const a = await renderPng(epochCurvesSpec(epochs));
  const b = await renderPng(epochCurvesSpec(epochs.map((p) => ({ ...p, testAccuracyPct: p.testAccuracyPct - 0.5 }))));
  assert.notDeepEqual(a, b);
});

test('chart text is drawn (a font was found and used)', async () => {
  const word = (text: string): TopLevelSpec => ({
    width: 120,
    height: 40,
    autosize: 'none',
    data: { values: [{ text }] },
    mark: { type: 'text', fontSize: 28 },
    encoding: { text: { field: 'text' } },
  });
  const withText = rasterise(await renderSvg(word('99%')));
  const blank = rasterise(await renderSvg(word('')));
  assert.equal(withText.width, blank.width);
  assert.notDeepEqual(withText.png, blank.png, 'text rendered as nothing: no usable font');
});

const DEJAVU = '/usr/share/fonts/truetype/dejavu';

test('the PNG is drawn with, and names, the family of the font file actually loaded', async (t) => {
  const serif = `${DEJAVU}/DejaVuSerif.ttf`;
  if (!existsSync(serif)) {
    t.skip(`needs ${serif} (Debian: apt-get install fonts-dejavu-extra)`);
    return;
  }
  const before = process.env.MNIST_SPEEDRUN_FONT;
  process.env.MNIST_SPEEDRUN_FONT = serif;
  try {
    const image = rasterise(await renderSvg(learningRateSpec([0.1, 0.2])));
    assert.deepEqual(image.font, { file: serif, family: 'DejaVu Serif' });
  } finally {
    if (before === undefined) delete process.env.MNIST_SPEEDRUN_FONT;
    else process.env.MNIST_SPEEDRUN_FONT = before;
  }
});

test("a font file's family comes from its name table", (t) => {
  // expected names as fc-list prints them for these files
  const expected: Record<string, string> = {
    'DejaVuSans.ttf': 'DejaVu Sans',
    'DejaVuSerif.ttf': 'DejaVu Serif',
    'DejaVuSansMono-Bold.ttf': 'DejaVu Sans Mono',
    'DejaVuMathTeXGyre.ttf': 'DejaVu Math TeX Gyre',
  };
  const present = Object.keys(expected).filter((file) => existsSync(`${DEJAVU}/${file}`));
  if (present.length < 2) {
    t.skip(`needs the DejaVu fonts in ${DEJAVU}`);
    return;
  }
  for (const file of present) {
    assert.equal(chartFont({ MNIST_SPEEDRUN_FONT: `${DEJAVU}/${file}` }).family, expected[file], file);
  }
  const notAFont = join(mkdtempSync(join(tmpdir(), 'plot-test-')), 'not-a-font.ttf');
  writeFileSync(notAFont, 'this is not a font file at all, just some text');
  assert.throws(() => chartFont({ MNIST_SPEEDRUN_FONT: notAFont }), (error: unknown) =>
    error instanceof UsageError && error.message.includes(`MNIST_SPEEDRUN_FONT='${notAFont}' is not allowed: it is not a TrueType or OpenType font`));
});

test('a font named in MNIST_SPEEDRUN_FONT must exist: a usage error naming it, never a quiet fallback to another font', () => {
  assert.throws(() => findFontFile({ MNIST_SPEEDRUN_FONT: '/nonexistent/font.ttf' }), (error: unknown) =>
    error instanceof UsageError && /^MNIST_SPEEDRUN_FONT='\/nonexistent\/font\.ttf' is not allowed: it does not exist; use a readable TrueType/.test(error.message));
  assert.match(findFontFile({}), /\.ttf$/i);
});

// ---- charts that fit their data ----------------------------------------------------------------

/** Every encoding channel (x, y, ...) in a spec whose field is `field`. */
function channelsOf(node: unknown, field: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (typeof value !== 'object' || value === null) return;
    const record = value as Record<string, unknown>;
    if (record.field === field && 'type' in record) found.push(record);
    Object.values(record).forEach(walk);
  };
  walk(node);
  return found;
}

/** The explicit scale domain of the channels on `field` (all must agree), as [low, high]. */
function domainOf(spec: unknown, field: string): [number, number] {
  const domains = channelsOf(spec, field)
    .map((channel) => (channel.scale as { domain?: unknown } | undefined)?.domain)
    .filter((d): d is [number, number] => Array.isArray(d));
  assert.ok(domains.length > 0, `an explicit domain on ${field}`);
  return domains[0]!;
}

const oneEpoch: EpochPoint[] = [{ epoch: 1, testAccuracyPct: 99.01, testLoss: 0.031, trainLoss: 0.12 }];
const twoEpochs: EpochPoint[] = [
  { epoch: 1, testAccuracyPct: 98.0, testLoss: 0.06, trainLoss: 0.2 },
  { epoch: 2, testAccuracyPct: 99.005, testLoss: 0.03, trainLoss: 0.07 },
];

test('one or two epochs are drawn as labelled points, never as a line', () => {
  for (const points of [oneEpoch, twoEpochs]) {
    const spec = epochCurvesSpec(points);
    assert.ok(!contains(spec, (node) => node.type === 'line' || node.mark === 'line'), `no line for ${points.length} epoch(s)`);
    assert.ok(contains(spec, (node) => node.type === 'point' || node.type === 'circle'));
    // every accuracy is written beside its dot
    const labels = channelsOf(spec, 'label').length + channelsOf(spec, 'accuracyLabel').length;
    assert.ok(labels > 0, 'value labels');
    const values = dataValues(spec);
    for (const p of points) assert.ok(values.some((v) => v.epoch === p.epoch && typeof v.accuracyLabel === 'string' && v.accuracyLabel.includes(p.testAccuracyPct.toFixed(2))));
  }
  assert.ok(contains(epochCurvesSpec(epochs), (node) => node.type === 'line'), 'three epochs still make a line');
});

test("the accuracy axis spans at least half a percentage point around the data and the 99% line", () => {
  for (const points of [oneEpoch, twoEpochs, epochs]) {
    const [low, high] = domainOf(epochCurvesSpec(points), 'accuracyPct');
    assert.ok(high - low >= 0.5, `domain ${low}..${high} is at least 0.5 wide`);
    for (const value of [...points.map((p) => p.testAccuracyPct), 99]) assert.ok(low < value && value < high, `${value} inside ${low}..${high}`);
  }
});

test('every epoch axis and the seed count axis have whole-number ticks', () => {
  for (const points of [oneEpoch, twoEpochs, epochs]) {
    const channels = channelsOf(epochCurvesSpec(points), 'epoch').filter((c) => c.type === 'quantitative');
    for (const channel of channels) {
      const axis = channel.axis as { tickMinStep?: number; format?: string; values?: number[] } | undefined;
      assert.ok(axis !== undefined && axis.format === 'd' && axis.tickMinStep === 1, JSON.stringify(channel));
      if (axis.values !== undefined) assert.ok(axis.values.every(Number.isInteger));
    }
  }
  const histogram = seedHistogramSpec([99, 99.1, 99.05]);
  assert.ok(contains(histogram, (node) => node.aggregate === 'count' && contains(node.axis, (axis) => axis.format === 'd' && axis.tickMinStep === 1)));
});

test('the ladder labels seconds without e-notation and keeps every dot and error bar inside its axes', () => {
  const points: LadderPoint[] = [
    { step: 1, slug: '01-baseline', seconds: 1621.2, accuracyPct: 99.11, referenceSeconds: 172 },
    { step: 4, slug: '04-data-loading', seconds: 71, secondsStd: 6.8, accuracyPct: 99.12, referenceSeconds: 7.31 },
    { step: 8, slug: '08-final', seconds: 7.18, secondsStd: 0.287, accuracyPct: 98.98, referenceSeconds: 0.762 },
  ];
  const spec = ladderSpec(points);
  const text = JSON.stringify(spec);
  const labels = dataValues(spec).filter((v) => 'seconds' in v && typeof v.label === 'string' && v.label !== '').map((v) => String(v.label));
  assert.ok(labels.length === 3 && labels.every((l) => !/\de[+-]?\d/.test(l)), labels.join(', '));
  assert.ok(labels.includes('27 min 1 s'), labels.join(', '));
  // the log axis names its ticks in seconds and minutes, not in d3's default e-notation or SI prefixes
  assert.match(text, /min/);
  const [low, high] = domainOf(spec, 'seconds');
  for (const value of [1621.2, 172, 71 + 6.8, 71 - 6.8, 7.18, 0.762]) assert.ok(low < value && value < high, `${value} inside ${low}..${high}`);
  const [accLow, accHigh] = domainOf(spec, 'accuracyPct');
  for (const value of [99.11, 99.12, 98.98, 99]) assert.ok(accLow < value - 0.01 && value + 0.01 < accHigh, `${value} inside ${accLow}..${accHigh}`);
});

test('the plotly versions: labelled points for short runs, padded ranges, whole-number ticks', () => {
  const short = epochCurvesPlotly(oneEpoch);
  assert.ok(short.data.every((trace) => !String(trace.mode).includes('lines')), 'no lines for one epoch');
  const range = short.layout.yaxis?.range as [number, number];
  assert.ok(range[1] - range[0] >= 0.5 && range[0] < 99 && range[1] > 99.01);
  assert.equal(short.layout.xaxis?.dtick, 1);
  assert.equal(short.layout.xaxis?.tickformat, 'd');
  const seeds = seedHistogramPlotly([99, 99.1]);
  assert.equal(seeds.layout.yaxis?.tickformat, 'd');
  assert.equal(seeds.layout.yaxis?.dtick, 1);
  const steps = ladderPlotly([{ step: 1, slug: '01-baseline', seconds: 1621, accuracyPct: 99.11 }, { step: 8, slug: '08-final', seconds: 7.2, accuracyPct: 98.98 }]);
  const accRange = steps.layout.xaxis2?.range as [number, number];
  assert.ok(accRange[0] < 98.97 && accRange[1] > 99.12);
});

// ---- several seed series on shared bins (step 9 beside step 8) --------------------------------

const step8Seeds = { label: 'step 8', accuraciesPct: [98.9, 98.95, 99.0, 99.04, 99.1] };
const step9Seeds = { label: 'step 9', accuraciesPct: [99.05, 99.1, 99.12, Number.NaN] };

test('seed bins: one set of bins for every series, edges at multiples of the width, each accuracy counted once', () => {
  // 98.9 .. 99.12 in bins of 0.01 would take 23 bins (98.90 .. 99.12), within the 24 allowed
  const narrow = seedBins([step8Seeds, step9Seeds]);
  assert.equal(narrow.width, 0.01);
  assert.equal(narrow.lows.length, 23);
  assert.equal(narrow.lows[0], 98.9);
  assert.equal(narrow.lows[22], 99.12);
  // by hand, bins of 0.05: [98.90, 98.95) [98.95, 99.00) [99.00, 99.05) [99.05, 99.10) [99.10, 99.15)
  const bins = seedBins([step8Seeds, step9Seeds], 0.05);
  assert.deepEqual(bins.lows, [98.9, 98.95, 99, 99.05, 99.1]);
  assert.deepEqual(bins.series.map((s) => s.counts), [
    [1, 1, 2, 0, 1],
    [0, 0, 0, 1, 2],
  ]);
  // the NaN of a run without a test pass is left out of the count, the mean and the share
  assert.equal(bins.series[1]!.n, 3);
  assert.equal(bins.series[1]!.reached99, 3);
  assert.equal(bins.series[0]!.reached99, 3);
  assert.equal(bins.series[0]!.legend, 'step 8: 99.00% ± 0.069, 3 of 5 ≥ 99%');
  assert.throws(() => seedBins([]), /at least one series/);
  assert.throws(() => seedBins([{ label: 'empty', accuraciesPct: [Number.NaN] }]), /the series 'empty' has no test accuracy/);
});

test('seed bins widen for a wide spread (quick mode: 38-72%), never past 24 bins', () => {
  const bins = seedBins([{ label: 'quick', accuraciesPct: [38.2, 55, 71.9] }]);
  assert.equal(bins.width, 2);
  assert.deepEqual(bins.lows.slice(0, 2), [38, 40]);
  assert.equal(bins.lows.at(-1), 70);
  assert.deepEqual(bins.series[0]!.counts.filter((c) => c > 0), [1, 1, 1]);
  assert.ok(bins.lows.length <= 24);
});

test('the overlaid histograms carry every bin of every series, each mean, and the 99% line, in PNG and plotly', async () => {
  const spec = seedHistogramsSpec([step8Seeds, step9Seeds], { width: 0.05 });
  const values = dataValues(spec);
  const bars = values.filter((v) => 'count' in v);
  assert.equal(bars.length, 10, 'five bins for each of two series');
  assert.deepEqual(bars.filter((v) => String(v.series).startsWith('step 9')).map((v) => v.count), [0, 0, 0, 1, 2]);
  assert.ok(values.some((v) => v.target === 99), 'the 99% line');
  const means = values.filter((v) => 'mean' in v).map((v) => Number(v.mean));
  assert.ok(Math.abs(means[0]! - 98.998) < 1e-9 && Math.abs(means[1]! - 99.09) < 1e-9, String(means));
  assert.ok(pngSize(await renderPng(spec)).width > 0, "it renders");
  const figure = seedHistogramsPlotly([step8Seeds, step9Seeds], { width: 0.05 });
  assert.equal(figure.data.length, 2);
  assert.deepEqual(figure.data[1]!.y, [0, 0, 0, 1, 2]);
  assert.ok(figure.layout.shapes?.some((s) => s.x0 === 99 && s.x1 === 99));
});

// ---- a sweep's search as a scatter: time per run against validation accuracy --------------------

const sweepRow = (variant: string, runs: number, secondsMean: number, secondsStd: number, accuracyMean: number): SweepRow => ({
  variant, id: variant, runs, secondsMean, secondsStd, accuracyMean, accuracyStd: 0.1, reached99: 0,
});
const sweepRows: SweepRow[] = [
  sweepRow('(step 8 unchanged)', 5, 7, 1, 98.9),
  sweepRow('c1=16', 5, 4, 0.5, 99.05),
  sweepRow('batch 128', 5, 8, 0.25, 98.7),
  sweepRow('never ran', 0, Number.NaN, Number.NaN, Number.NaN),
];
const highlight = ['(step 8 unchanged)', 'c1=16'];

test('the sweep scatter: one point per variant with runs, time ± std across, accuracy up, highlighted ones labelled, the 99% line', () => {
  const spec = sweepScatterSpec(sweepRows, { highlight, title: 'around step 8' });
  assert.equal(spec.title, 'around step 8');
  const points = dataValues(spec).filter((v) => 'variant' in v);
  // by hand: the x axis spans 3.5..8.25 (mean ± std), so its middle is near 5.9; dots right of it are labelled on their left
  assert.deepEqual(
    points.map(({ variant, seconds, low, high, accuracyPct, highlighted, label, side }) => ({ variant, seconds, low, high, accuracyPct, highlighted, label, side })),
    [
      { variant: '(step 8 unchanged)', seconds: 7, low: 6, high: 8, accuracyPct: 98.9, highlighted: true, label: '(step 8 unchanged)', side: 'left' },
      { variant: 'c1=16', seconds: 4, low: 3.5, high: 4.5, accuracyPct: 99.05, highlighted: true, label: 'c1=16', side: 'right' },
      { variant: 'batch 128', seconds: 8, low: 7.75, high: 8.25, accuracyPct: 98.7, highlighted: false, label: '', side: 'left' },
    ],
  );
  assert.ok(!points.some((p) => p.variant === 'never ran'), 'a variant without runs is left out');
  assert.ok(dataValues(spec).some((v) => v.target === 99), 'the 99% line');
  assert.ok(contains(spec, (node) => node.type === 'rule' && Array.isArray(node.strokeDash)), 'dashed');
  assert.ok(contains(spec, (node) => node.type === 'text' && node.align === 'right'), 'labels left of the dots on the right');
  const [low, high] = domainOf(spec, 'seconds');
  for (const value of [3.5, 4.5, 6, 8, 8.25]) assert.ok(low < value && value < high, `${value} inside ${low}..${high}`);
  const [accLow, accHigh] = domainOf(spec, 'accuracyPct');
  for (const value of [98.7, 98.9, 99, 99.05]) assert.ok(accLow < value - 0.05 && value + 0.05 < accHigh, `${value} inside ${accLow}..${accHigh}`);
  const plain = dataValues(sweepScatterSpec(sweepRows)).filter((v) => 'variant' in v);
  assert.ok(plain.every((p) => p.highlighted === false && p.label === ''), 'no highlight: no labels');
});

test('the sweep scatter in plotly: every variant as hover text, highlighted ones as text, error bars, the 99% line', () => {
  const figure = sweepScatterPlotly(sweepRows, { highlight });
  assert.deepEqual(figure.data.flatMap((t) => t.hovertext as string[]).sort(), ['(step 8 unchanged)', 'batch 128', 'c1=16']);
  const others = figure.data.find((t) => t.name === 'other variants');
  assert.deepEqual(others?.x, [8]);
  assert.deepEqual(others?.text, undefined, 'unlabelled');
  assert.deepEqual(figure.data.filter((t) => t.name === 'highlighted').flatMap((t) => t.text as string[]).sort(), ['(step 8 unchanged)', 'c1=16']);
  assert.deepEqual(figure.data.flatMap((t) => (t.error_x as { array: number[] }).array).sort(), [0.25, 0.5, 1]);
  assert.ok(figure.layout.shapes?.some((s) => s.y0 === 99 && s.y1 === 99 && s.line?.dash === 'dash'));
  const range = figure.layout.xaxis?.range as [number, number];
  assert.ok(range[0] < 3.5 && range[1] > 8.25, String(range));
});

test('the sweep scatter refuses a highlight naming no variant, and a sweep with no finished run, in one line', () => {
  assert.throws(() => sweepScatterSpec(sweepRows, { highlight: ['c1=61'] }), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /^highlight names 'c1=61', which is no variant of the sweep \(did you mean c1=16\?\); give variant labels as its table shows them/);
    return true;
  });
  assert.throws(() => sweepScatterPlotly([sweepRows[3]!]), /no variant of the sweep has a finished run/);
});

test('the sweep scatter renders to PNG', async () => {
  const png = await renderPng(sweepScatterSpec(sweepRows, { highlight }));
  assert.ok(pngSize(png).width > 0);
  assert.notDeepEqual(png, await renderPng(sweepScatterSpec(sweepRows)), 'highlighting changes the picture');
});
