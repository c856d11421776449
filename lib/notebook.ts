/**
 * What a step's notebook calls, so that its cells stay a few lines long and all eight read alike:
 * start a session (backend + data), show the step's change, measure it, record it, compare it,
 * plot it. Everything here prints plain text (what a saved notebook shows) and returns the values
 * for the cell to end on.
 */
import { describeBackend, useBackend, type BackendName, type BackendReport } from './backend';
import { loadMnist, takeSubset, type Batch, type MnistArrays } from './data';
import { deviceBatches, loadDeviceSplit } from './device-data';
import { preprocessedCacheFile } from './preprocessed-cache';
import { DataLoader, MnistSampleDataset } from './loader';
import { appendToLedger, defaultLedgerDir, latestPerStep, readLedger } from './ledger';
import { describeMachine, type MachineInfo } from './machine';
import { measureRecipe, type Measurement } from './measure';
import { QUICK, isQuickMode, quickRecipe } from './quick';
import { RECIPES, recipeDiff, recipeForStep, type DataPath, type Recipe } from './recipes';
import { formatSummaryTable, makeStepRecord, summarize, type StepRecord, type StepSummary } from './results';
import { formatDuration, formatTiming, mean, timeRuns } from './timing';
import type { RunResult } from './train';
import type { EpochPoint } from './plot';

export interface Session {
  backend: BackendReport;
  machine: MachineInfo;
  data: MnistArrays;
  /** Small subset and short budget (MNIST_SPEEDRUN_QUICK=1): numbers are not comparable with full runs. */
  quick: boolean;
  /** Where step results are recorded. */
  ledgerDir: string;
}

export interface SessionOptions {
  backend?: BackendName;
  /** Folder with the four MNIST files (default: MNIST_DIR, then the cache, then a download). */
  dataDir?: string;
}

/** Picks the backend, loads MNIST, and says what will run on what. */
export async function startSession(options: SessionOptions = {}): Promise<Session> {
  const backend = await useBackend({ name: options.backend });
  const quick = isQuickMode();
  const full = await loadMnist({ dir: options.dataDir });
  const data = quick ? takeSubset(full, QUICK.trainCount, QUICK.testCount) : full;
  const machine = describeMachine();
  // quick results go to their own folder so they never mix with the committed full-run ledger
  const ledgerDir = quick ? defaultLedgerDir().replace(/ledger$/, 'quick-ledger') : defaultLedgerDir();
  console.log(describeBackend(backend));
  console.log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ` +
      `TensorFlow.js ${machine.tfjs}, load average ${machine.loadAverage}`,
  );
  console.log(
    `data: ${data.train.count} training and ${data.test.count} test images` +
      (quick ? ` (QUICK MODE: a subset, at most ${QUICK.maxEpochs} epochs; numbers are not comparable)` : ''),
  );
  return { backend, machine, data, quick, ledgerDir };
}

/** The recipe a session trains for `step`: cut to the quick budget in quick mode. */
export function sessionRecipe(session: Session, step: number): Recipe {
  const recipe = recipeForStep(step);
  return session.quick ? quickRecipe(recipe) : recipe;
}

/** This step's change as a table of recipe fields, previous value -> new value. */
export function showChange(step: number): string {
  const recipe = recipeForStep(step);
  if (step === 1) {
    return Object.entries(recipe)
      .filter(([key]) => !['step', 'slug', 'change', 'reference'].includes(key))
      .map(([key, value]) => `${key.padEnd(15)} ${JSON.stringify(value)}`)
      .join('\n');
  }
  const rows = recipeDiff(recipeForStep(step - 1), recipe);
  const width = Math.max(...rows.map(([field]) => field.length));
  return [`step ${step - 1} -> step ${step}: ${recipe.change}`, ...rows.map(([f, a, b]) => `  ${f.padEnd(width)}  ${a}  ->  ${b}`)].join('\n');
}

export interface StepOptions {
  /** Timed runs (default 3, or the quick budget's). */
  runs?: number;
  seed?: number;
  /** Print a line per epoch (default true). */
  verbose?: boolean;
}

/** Measures `step` like %%timeit (warm-up, then n runs) and prints the timing line and each run. */
export async function measureStep(session: Session, step: number, options: StepOptions = {}): Promise<Measurement> {
  const recipe = sessionRecipe(session, step);
  const runs = session.quick ? Math.min(options.runs ?? QUICK.runs, QUICK.runs) : (options.runs ?? 3);
  const measurement = await measureRecipe(recipe, session.data, {
    runs,
    seed: options.seed ?? 1,
    // a subset must not replace the full dataset's cache file
    cacheFile: session.quick ? undefined : preprocessedCacheFile(),
    onEpoch: (options.verbose ?? true)
      ? (run, r) =>
          console.log(
            `run ${run + 1} epoch ${r.epoch}: train loss ${r.trainLoss.toFixed(4)}` +
              (r.evalAccuracy === null ? '' : `, test accuracy ${r.evalAccuracy.toFixed(2)}%`) +
              ` (${r.elapsedSeconds.toFixed(1)} s)`,
          )
      : undefined,
  });
  console.log(measurement.timing);
  for (const r of measurement.results) {
    console.log(`  seed ${r.seed}: ${formatDuration(r.seconds * 1000)}, ${r.epochs} epoch(s), test accuracy ${r.testAccuracy?.toFixed(2)}%`);
  }
  return measurement;
}

/** Saves the measurement in the results ledger and returns the record. */
export async function recordStep(session: Session, measurement: Measurement): Promise<StepRecord> {
  const record = makeStepRecord(measurement.recipe, measurement.results, {
    backend: session.backend.name,
    device: session.backend.device,
    machine: session.machine,
    source: 'notebook',
    quick: session.quick,
  });
  const path = await appendToLedger(record, session.ledgerDir);
  console.log(`recorded in ${path.slice(path.indexOf('results/'))}`);
  return record;
}

/**
 * This step beside the previous step's latest recorded result on the same backend, and the
 * original's GPU numbers: the table every notebook ends its measurement with.
 */
export async function compareStep(session: Session, record: StepRecord): Promise<string> {
  const { records } = await readLedger(session.ledgerDir);
  const previous = latestPerStep(records, { backend: record.backend, includeQuick: session.quick }).find(
    (r) => r.step === record.step - 1,
  );
  const rows: StepSummary[] = [];
  if (previous) rows.push(summarize(previous));
  rows.push(summarize(record));
  const here = formatSummaryTable(rows);
  const reference = RECIPES.filter((r) => r.step === record.step - 1 || r.step === record.step).map(
    (r) => `  step ${r.step}: ${formatDuration(r.reference.seconds * 1000)} ± ${formatDuration(r.reference.secondsStd * 1000)}, ${r.reference.accuracy}% (${r.reference.note})`,
  );
  return [`here (${record.backend} on ${record.device}):`, here, '', 'original (GTX 1660 Ti, PyTorch 1.8):', ...reference].join('\n');
}

/** Per-epoch points of a run for the accuracy plot (epochs without a test pass are left out). */
export function epochPoints(result: RunResult): EpochPoint[] {
  return result.history
    .filter((r) => r.evalAccuracy !== null && r.evalLoss !== null)
    .map((r) => ({ epoch: r.epoch, testAccuracyPct: r.evalAccuracy!, testLoss: r.evalLoss!, trainLoss: r.trainLoss }));
}

/** Mean test accuracy of a measurement's finished runs, percent. */
export function meanAccuracy(measurement: Measurement): number {
  return mean(measurement.results.map((r) => r.testAccuracy).filter((a): a is number => a !== null));
}

/** The cache file for step 04's preprocessed dataset (shown in its notebook). */
export { preprocessedCacheFile };

/**
 * Time to cut one epoch of training batches (nothing trained), on the per-sample path and on the
 * device path: step 04's change measured on its own.
 */
export async function timeBatchAssembly(session: Session, batchSize: number, runs = 3): Promise<Record<DataPath, string>> {
  const perSample = new DataLoader(new MnistSampleDataset(session.data.train), { batchSize, shuffle: true, seed: 1 });
  const device = loadDeviceSplit(session.data.train);
  try {
    const drain = async (batches: Iterable<Batch>): Promise<number> => {
      let count = 0;
      for (const { x, y } of batches) {
        if (count === 0) await x.data(); // the clock stops only on data that is really there
        x.dispose();
        y.dispose();
        count++;
      }
      return count;
    };
    const perSampleTiming = await timeRuns(() => drain(perSample), { runs });
    const deviceTiming = await timeRuns((run) => drain(deviceBatches(device, batchSize, run + 2)), { runs });
    return { 'per-sample': formatTiming(perSampleTiming.samplesMs), device: formatTiming(deviceTiming.samplesMs) };
  } finally {
    device.dispose();
  }
}

export interface LadderRow {
  step: number;
  slug: string;
  change: string;
  seconds: number;
  secondsStd: number;
  speedUp: number;
  epochs: number;
  accuracy: number;
  runs: number;
  originalSeconds: number;
  originalSpeedUp: number;
}

/**
 * The ladder as measured on this session's backend: the newest full record of each step in the
 * ledger (quick records in quick mode), speed-up over the first step present.
 */
export async function ladderRows(session: Session): Promise<LadderRow[]> {
  const { records, problems } = await readLedger(session.ledgerDir);
  for (const problem of problems) console.warn(problem);
  const latest = latestPerStep(records, { backend: session.backend.name, includeQuick: session.quick });
  const summaries = latest.map((record) => ({ record, summary: summarize(record) }));
  const first = summaries[0];
  if (!first) return [];
  return summaries.map(({ record, summary }) => ({
    step: summary.step,
    slug: record.slug,
    change: summary.change,
    seconds: summary.secondsMean,
    secondsStd: summary.secondsStd,
    speedUp: first.summary.secondsMean / summary.secondsMean,
    epochs: summary.epochsMean,
    accuracy: summary.accuracyMean,
    runs: summary.runs,
    originalSeconds: record.reference.seconds,
    originalSpeedUp: first.record.reference.seconds / record.reference.seconds,
  }));
}
