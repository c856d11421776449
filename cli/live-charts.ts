/**
 * `--plot`: the runs (and for `ladder` the ladder) as live charts in the browser (nodeplotlib, via
 * lib/plot-browser.ts), fed by the same callbacks as the progress bars. After the work the page
 * stays served until Ctrl-C.
 */
import { epochCurvesPlotly, ladderPlotly, learningRatePlotly, type EpochPoint, type LadderPoint, type PlotlyFigure } from '../lib/plot';
import { openChartPage, type LiveChart } from '../lib/plot-browser';
import type { Recipe } from '../lib/recipes';
import type { StepSummary } from '../lib/results';
import type { BatchProgress, EpochRecord } from '../lib/train';
import { INTERRUPT_SIGNALS, type InterruptSignal } from './interrupt';
import { chainBroken, launcherChain } from './launcher-chain';

/** The learning-rate chart is redrawn at most this often (it grows every batch). */
const LR_REDRAW_MS = 500;

export interface LiveCharts {
  readonly url: string;
  runStarted(label: string): void;
  batch(progress: BatchProgress): void;
  epoch(record: EpochRecord): void;
  /** A step's summary, for the ladder chart (ladder only). */
  stepDone(recipe: Recipe, summary: StepSummary): void;
}

/** A figure with only a title, until a run has its first point. */
function waiting(title: string): PlotlyFigure {
  return { data: [], layout: { title: { text: title } } };
}

/** The epochs of a run that measured accuracy, as the accuracy and loss chart takes them. */
export function epochPoint(record: EpochRecord): EpochPoint | null {
  if (record.evalAccuracy === null || record.evalLoss === null) return null;
  return { epoch: record.epoch, testAccuracyPct: record.evalAccuracy, testLoss: record.evalLoss, trainLoss: record.trainLoss };
}

/** One point of the ladder chart: a step's measured mean beside the original's GPU time. */
export function ladderPoint(recipe: Recipe, summary: StepSummary): LadderPoint {
  return {
    step: recipe.step,
    slug: recipe.slug,
    seconds: summary.secondsMean,
    secondsStd: summary.secondsStd,
    accuracyPct: summary.accuracyMean,
    ...(recipe.reference === null ? {} : { referenceSeconds: recipe.reference.seconds }),
  };
}

export async function openLiveCharts(options: { ladder: boolean; machine: string; open?: boolean }): Promise<LiveCharts> {
  // every chart from the start (lib/plot-browser.ts says why); the ladder's waits for the first step
  const figures = [waiting('test accuracy and loss per epoch (after the first epoch)'), waiting('learning rate per batch')];
  if (options.ladder) figures.push(waiting('the ladder: time per step (after the first step)'));
  const page = await openChartPage(figures, { open: options.open });
  const [run, rate, ladderChart] = page.charts as [LiveChart, LiveChart, LiveChart | undefined];
  let label = '';
  let points: EpochPoint[] = [];
  let rates: number[] = [];
  let lastRateDrawMs = 0;
  const ladder: LadderPoint[] = [];

  const drawRates = (): void => {
    lastRateDrawMs = Date.now();
    rate.show(learningRatePlotly(rates, { title: `${label}: learning rate per batch` }));
  };
  return {
    url: page.url,
    runStarted(runLabel) {
      label = runLabel;
      points = [];
      rates = [];
      run.show(waiting(`${label}: test accuracy and loss per epoch (after the first epoch)`));
      drawRates();
    },
    batch(progress) {
      if (label === '') return;
      rates.push(progress.learningRate);
      if (Date.now() - lastRateDrawMs >= LR_REDRAW_MS) drawRates();
    },
    epoch(record) {
      if (label === '') return;
      drawRates();
      const point = epochPoint(record);
      if (point === null) return;
      points.push(point);
      run.show(epochCurvesPlotly(points, { title: `${label}: test accuracy and loss per epoch` }));
    },
    stepDone(recipe, summary) {
      if (!options.ladder) return;
      ladder.push(ladderPoint(recipe, summary));
      ladderChart?.show(ladderPlotly(ladder, { machine: options.machine }));
    },
  };
}

/**
 * Resolves with the signal that asks to stop (Ctrl-C, SIGTERM, SIGHUP), or SIGHUP when the launching
 * process goes away, as the interruption of training does (cli/interrupt.ts).
 */
export function untilStopped(): Promise<InterruptSignal> {
  return new Promise((resolve) => {
    const chain = launcherChain();
    const stop = (signal: InterruptSignal): void => {
      clearInterval(timer);
      resolve(signal);
    };
    // the handlers stay: launchers relay Ctrl-C a moment later, which must not kill the exit
    for (const signal of INTERRUPT_SIGNALS) process.on(signal, () => stop(signal));
    const timer = setInterval(() => {
      if (chainBroken(chain)) stop('SIGHUP');
    }, 100);
  });
}
