/**
 * What a step's notebook calls, so that its cells stay a few lines long and every notebook reads alike:
 * start a session (backend + data), show the step's change, measure it, record it, compare it,
 * plot it. Tables and summaries are shown as HTML and markdown inside the tslab kernel and printed
 * as text anywhere else (lib/table-notebook.ts show).
 */
import { describeBackend, useBackend, type BackendName, type BackendReport } from './backend';
import { loadMnist, type MnistArrays } from './data';
import { checkEnvironment } from './environment';
import { checkLedgerWritable } from './ledger-probe';
import { batchAssemblyTable, timeBatchAssembly } from './batch-timing';
import { preprocessedCacheFile } from './preprocessed-cache';
import {
  comparisonBlocks,
  comparisonBlocksText,
  currentRecipeHashes,
  ladderEngineNote,
  ladderFrom,
  newestOfStep,
  type LadderRow,
} from './comparison';
import { comparisonInput, readReporting } from './comparison-input';
import { dataHash } from './fingerprint';
import { appendToLedger, isReferenceRecording, readLedger, recordingLedgerDir, referenceLedgerDir } from './ledger';
import { displayPath } from './project-root';
import { describeMachine, type MachineInfo } from './machine';
import { measureRecipe, type Measurement } from './measure';
import { capRuns, modeData, modeNote, modeRecipe, runModeFromEnv, type RunMode } from './run-mode';
import { recipeForStep, type Recipe } from './recipes';
import { changeTable } from './recipe-change';
import { isNotebookKernel, show, showMarkdown } from './table-notebook';
import { comparisonKey, makeStepRecord, type StepRecord } from './results';
import { formatDuration, mean, std } from './timing';
import type { RunResult } from './train';
import type { EpochPoint, SeedSeries } from './plot';

export interface Session {
  backend: BackendReport;
  machine: MachineInfo;
  data: MnistArrays;
  /**
   * The run mode (MNIST_SPEEDRUN_MODE, or MNIST_SPEEDRUN_QUICK=1 for quick): outside full mode a
   * subset and a short budget, compared only with runs of the same mode.
   */
  mode: RunMode;
  /** Where step results are recorded: your ledger, or the reference ledger when re-recording it. */
  ledgerDir: string;
  /** True when this session re-records the saved reference results (MNIST_SPEEDRUN_REFERENCE=1). */
  recordsReference: boolean;
  /** dataHash of the data this session trains on. */
  dataHash: string;
}

export interface SessionOptions {
  backend?: BackendName;
  /** Folder with the four MNIST files (default: MNIST_DIR, then the cache, then a download). */
  dataDir?: string;
}

/** Picks the backend, loads MNIST, and says what will run on what. */
export async function startSession(options: SessionOptions = {}): Promise<Session> {
  // every environment variable against its rule before a backend starts or any data is read
  checkEnvironment();
  const mode = runModeFromEnv();
  // quick and workshop results go to their own folders, and a user's runs never into the committed
  // reference; a ledger that cannot be written fails now, not when the first step has trained
  const ledgerDir = recordingLedgerDir(mode);
  const recordsReference = isReferenceRecording();
  await checkLedgerWritable(ledgerDir, '');
  const backend = await useBackend({ name: options.backend });
  const full = await loadMnist({ dir: options.dataDir });
  const data = modeData(full, mode);
  const machine = describeMachine();
  console.log(describeBackend(backend));
  console.log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ` +
      `TensorFlow.js ${machine.tfjs}, load average ${machine.loadAverage}`,
  );
  console.log(
    `data: ${data.train.count} training and ${data.test.count} test images` +
      (mode === 'full' ? '' : ` (${modeNote(mode)})`),
  );
  console.log(`results: recorded in ${displayPath(ledgerDir)}${recordsReference ? ' (re-recording the saved reference results)' : ''}`);
  return { backend, machine, data, mode, ledgerDir, recordsReference, dataHash: dataHash(data) };
}

/** The recipe a session trains for `step`: cut to the mode's budget outside full mode. */
export function sessionRecipe(session: Session, step: number): Recipe {
  return modeRecipe(recipeForStep(step), session.mode);
}

/**
 * This step's change as a small table: the recipe fields that differ from the previous step, each
 * value in words (step 1: every field of its recipe). HTML in a notebook, text elsewhere.
 */
export function showChange(step: number): void {
  const table = changeTable(step);
  show(table, table.caption);
}

export interface StepOptions {
  /** Timed runs (default 3), within the mode's cap outside full mode (lib/run-mode.ts). */
  runs?: number;
  seed?: number;
  /** Print a line per epoch (default true). */
  verbose?: boolean;
}

/** Measures `step` like %%timeit (warm-up, then n runs) and prints the timing line and each run. */
export async function measureStep(session: Session, step: number, options: StepOptions = {}): Promise<Measurement> {
  const recipe = sessionRecipe(session, step);
  const runs = capRuns(session.mode, step, options.runs ?? 3);
  if (runs < (options.runs ?? 3)) console.log(`${session.mode} mode: ${runs} run${runs === 1 ? '' : 's'} instead of ${options.runs ?? 3}`);
  const measurement = await measureRecipe(recipe, session.data, {
    runs,
    seed: options.seed ?? 1,
    // a subset must not replace the full dataset's cache file
    cacheFile: session.mode === 'full' ? preprocessedCacheFile() : undefined,
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

/** Saves the measurement in the session's ledger and returns the record. */
export async function recordStep(session: Session, measurement: Measurement): Promise<StepRecord> {
  const record = makeStepRecord(measurement.recipe, measurement.results, {
    backend: session.backend,
    machine: session.machine,
    source: 'notebook',
    mode: session.mode,
    dataHash: session.dataHash,
  });
  const path = await appendToLedger(record, session.ledgerDir);
  console.log(`recorded in ${displayPath(path)}`);
  return record;
}

/**
 * This step beside the previous one: your run, the saved reference run and the original's GPU
 * numbers, one table each; each caption names its machine, and the line under it says whether
 * its seconds compare directly with yours. HTML tables in a notebook, text elsewhere.
 */
export async function compareStep(session: Session, record: StepRecord): Promise<void> {
  const blocks = comparisonBlocks(await comparisonInput(session, record));
  if (!isNotebookKernel()) {
    console.log(comparisonBlocksText(blocks));
    return;
  }
  for (const block of blocks) {
    if (block.table !== null) show(block.table, block.caption);
    showMarkdown(block.table === null ? `**${block.caption}**: ${block.note}` : `*${block.note}*`);
  }
}

/** Per-epoch points of a run for the accuracy plot (epochs without a test pass are left out). */
export function epochPoints(result: RunResult): EpochPoint[] {
  return result.history
    .filter((r) => r.evalAccuracy !== null && r.evalLoss !== null)
    .map((r) => ({ epoch: r.epoch, testAccuracyPct: r.evalAccuracy!, testLoss: r.evalLoss!, trainLoss: r.trainLoss }));
}

/**
 * The seed study of a measurement, as the original reports its final recipe: test accuracy mean ±
 * std over the finished runs, and how many seeds reached 99%.
 */
export function seedStudy(measurement: Measurement): string {
  const accuracies = measurement.results.filter((r) => !r.partial).map((r) => r.testAccuracy).filter((a): a is number => a !== null);
  if (accuracies.length === 0) return 'no finished run';
  const reached = accuracies.filter((a) => a >= 99).length;
  const spread = accuracies.length === 1 ? '' : ` ± ${std(accuracies).toFixed(3)} (mean ± std)`;
  return (
    `test accuracy over ${accuracies.length} seed${accuracies.length === 1 ? '' : 's'}: ${mean(accuracies).toFixed(2)}%${spread}, ` +
    `${reached} of ${accuracies.length} reached 99%`
  );
}

export { changeTable };
export { liveSummary, showLiveSummary } from './run-summary';
export { showCode, sourceRegion } from './source-region';

/** The cache file for step 04's preprocessed dataset (shown in its notebook). */
export { preprocessedCacheFile };

/**
 * Step 04's change on its own: one epoch of batches cut sample by sample and as device slices,
 * shown as a small table (HTML in a notebook, text elsewhere). Returns nothing, so a cell that
 * ends with it shows the table only, not an object dump.
 */
export async function showBatchAssembly(session: Session, batchSize: number, runs = 3): Promise<void> {
  const table = batchAssemblyTable(await timeBatchAssembly(session.data.train, batchSize, runs));
  show(table, table.caption);
}

/**
 * The ladder from your own ledger, on this session's machine, backend and data (steps you have
 * not run on it are missing), or from the saved reference results (one machine, named in each
 * row's `where`).
 */
export async function ladderRows(session: Session, from: 'yours' | 'reference' = 'yours'): Promise<LadderRow[]> {
  const hashes = currentRecipeHashes(session.mode);
  if (from === 'reference') return session.mode === 'full' ? ladderFrom(await readReporting(referenceLedgerDir()), hashes) : [];
  const records = await readReporting(session.ledgerDir);
  const like = { machine: session.machine, backend: session.backend.name, threads: session.backend.threads ?? null, dataHash: session.dataHash, quick: session.mode === 'quick', mode: session.mode };
  const anchor = records.find((r) => comparisonKey(r) === comparisonKey(like));
  return anchor ? ladderFrom(records, hashes, anchor) : [];
}

export type { LadderRow };
export { ladderFrameRows, ladderPoints, type LadderFrameRow } from './ladder-view';

/**
 * The test accuracy of every seed of the saved reference run of `step` (results/reference/, its
 * newest full record with today's recipe), labelled with where and when it ran; null when there is
 * none. A full run whichever mode this session is in: say so beside a workshop or quick run.
 */
export async function savedSeeds(step: number): Promise<SeedSeries | null> {
  const saved = newestOfStep(await readReporting(referenceLedgerDir()), step, currentRecipeHashes('full'));
  if (saved === null) return null;
  const finished = saved.runs.filter((r) => !r.partial);
  return {
    label: `step ${step}, saved reference run (${saved.date.slice(0, 10)})`,
    accuraciesPct: finished.map((r) => r.testAccuracy ?? Number.NaN),
  };
}

/** This measurement's test accuracy per seed, as a histogram series. */
export function measuredSeeds(measurement: Measurement, label: string): SeedSeries {
  return { label, accuraciesPct: measurement.results.map((r) => r.testAccuracy ?? Number.NaN) };
}

export interface Ladder {
  /** 'your ladder (wasm, 2 threads, on ...)' or 'saved reference ladder (...)'. */
  title: string;
  rows: LadderRow[];
  /** Which rows ran another engine than the newest step, in words (lib/comparison.ts ladderEngineNote); null when none did. */
  engineNote: string | null;
}

/**
 * The ladders to show, each from one machine: yours (when you have full runs on this machine),
 * then the saved reference. While re-recording the reference, the one ladder is the reference as
 * this machine has re-recorded it so far: not the newest ladder of another machine that still
 * holds a higher step.
 */
export async function ladders(session: Session): Promise<Ladder[]> {
  const saved = await ladderRows(session, session.recordsReference ? 'yours' : 'reference');
  const out: Ladder[] = [];
  if (!session.recordsReference) {
    const yours = await ladderRows(session, 'yours');
    if (yours.length > 0) out.push({ title: `your ladder (${yours[0]!.where})`, rows: yours, engineNote: ladderEngineNote(yours)?.note ?? null });
  }
  if (saved.length > 0) out.push({ title: `saved reference ladder (${saved[0]!.where})`, rows: saved, engineNote: ladderEngineNote(saved)?.note ?? null });
  return out;
}


/** "Your turn": a step's recipe with fields changed, trained, recorded apart and compared (lib/your-turn.ts). */
export { tryChange, type TryOptions, type TryResult } from './your-turn';
export { showTry } from './your-turn-notebook';

/** Sweeps: a grid of changes over seeds, judged on a validation split, resumable (lib/sweep-run.ts); show(sweepTable(rows), caption). */
export { runSweep, sweepTable, type RunSweepOptions } from './sweep-run';

/** Step 9's notebook: FLOPs per layer (lib/flops-notebook.ts), a saved sweep study (lib/saved-study.ts), the verdict (lib/verdict.ts). */
export { showFlops, flopsTable } from './flops-notebook';
export { showStudy, showStudyChart, readSavedStudy, savedStudyTable } from './saved-study';
export { showVerdict, verdict, verdictMarkdown } from './verdict';
export type { SweepRow } from './sweep';
