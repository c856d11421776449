/**
 * The command line: `mnist-speedrun start | train | ladder | try | sweep | backends | doctor`. Every failure ends with a
 * one-line reason on stderr and a non-zero exit code (README: "Exit codes").
 */
import { checkIsFolder, loadMnist, type MnistArrays } from '../lib/data';
import { preprocessedCacheFile } from '../lib/preprocessed-cache';
import { describeBackend, useBackend, type BackendReport } from '../lib/backend';
import { checkEnvironment } from '../lib/environment';
import { EXIT_CODES, UsageError } from '../lib/errors';
import { appendToLedger, defaultLedgerDir, isReferenceRecording, REFERENCE_ENV_VAR, triesLedgerDir, userLedgerDir } from '../lib/ledger';
import { checkLedgerWritable } from '../lib/ledger-probe';
import { dataHash } from '../lib/fingerprint';
import { describeMachine } from '../lib/machine';
import { displayPath } from '../lib/project-root';
import { measureRecipe, type Measurement } from '../lib/measure';
import { capRuns, modeData, modeNote, modeRecipe } from '../lib/run-mode';
import { capSeeds, compareTry, describeChange, formatTryTable, measureSeeds, seedRange, tryRecipe, type TryHooks } from '../lib/your-turn';
import { recipeForStep } from '../lib/recipes';
import { formatSummaryTable, makeStepRecord, runJsonLine, summarize, type StepRecord, type StepSummary } from '../lib/results';
import { USAGE, parseCli, type CliOptions } from './args';
import { watchInterrupts } from './interrupt';
import { openLiveCharts, untilStopped, type LiveCharts } from './live-charts';
import { needsRelay, runRelayed } from './relay';
import { doctor } from './doctor';
import { progressBar, type ProgressBar } from './progress';
import { exitWhenDone } from '../lib/exit';
import { runSweepCommand } from './sweep';

async function loadData(options: CliOptions): Promise<MnistArrays> {
  const data = await loadMnist({ dir: options.data });
  return modeData(data, options.mode);
}

/** The summary of a step's finished runs (summarize leaves an interrupted run out); null if none finished. */
function summarizeFinished(record: StepRecord): StepSummary | null {
  const summary = summarize(record);
  return summary.runs === 0 ? null : summary;
}

/**
 * The training hooks of a run's progress: a progress bar per run on stderr (labelled by `label`),
 * the live charts when --plot is on, and with --json one line per finished run on stdout.
 */
function progressHooks(
  label: (run: number, seed: number) => string,
  json: boolean,
  charts: LiveCharts | null,
): Pick<TryHooks, 'onRunStart' | 'onBatch' | 'onEpoch' | 'onRunEnd'> {
  let bar: ProgressBar | null = null;
  return {
    onRunStart: (run, seed) => {
      bar = progressBar(label(run, seed));
      charts?.runStarted(label(run, seed));
    },
    onBatch: (_, p) => {
      bar?.onBatch(p);
      charts?.batch(p);
    },
    onEpoch: (_, r) => {
      bar?.onEpoch(r);
      charts?.epoch(r);
    },
    onRunEnd: (_, result) => {
      bar?.done(result);
      if (json) process.stdout.write(runJsonLine(result) + '\n');
    },
  };
}

/** Runs the options' steps; records each step as it finishes so an interruption loses nothing done. */
async function runSteps(
  options: CliOptions,
  backend: BackendReport,
  ledgerDir: string,
  signal: AbortSignal,
  charts: LiveCharts | null,
): Promise<StepSummary[]> {
  const data = await loadData(options);
  const fingerprint = dataHash(data);
  const machine = describeMachine();
  const summaries: StepSummary[] = [];
  for (const step of options.steps) {
    if (signal.aborted) break;
    const recipe = modeRecipe(recipeForStep(step), options.mode);
    const runs = capRuns(options.mode, step, options.runs);
    const measurement: Measurement = await measureRecipe(recipe, data, {
      runs,
      seed: options.seed,
      warmUp: options.warmUp,
      validationCount: options.validationCount,
      // a subset must not replace the full dataset's cache file
      cacheFile: options.mode === 'full' ? preprocessedCacheFile() : undefined,
      signal,
      ...progressHooks((run, seed) => `step ${String(step).padStart(2, '0')} run ${run + 1}/${runs} (seed ${seed})`, options.json, charts),
    });
    if (measurement.results.length === 0) break;
    const record = makeStepRecord(recipe, measurement.results, {
      backend,
      machine,
      source: 'cli',
      mode: options.mode,
      dataHash: fingerprint,
    });
    // a step whose every run was interrupted has nothing to save
    if (options.record && record.runs.some((run) => !run.partial)) {
      const path = await appendToLedger(record, ledgerDir);
      process.stderr.write(`step ${step}: ${measurement.timing}; recorded in ${displayPath(path)}\n`);
    }
    const summary = summarizeFinished(record);
    if (summary !== null) {
      summaries.push(summary);
      charts?.stepDone(recipe, summary);
    }
  }
  return summaries;
}

/** Where `try` records: the tries/ folder of your ledger of the mode; never the reference ledger. */
function tryLedgerDir(options: CliOptions): string {
  if (isReferenceRecording()) {
    throw new UsageError(`try records your own tries, never reference results: unset ${REFERENCE_ENV_VAR} to run it`);
  }
  return triesLedgerDir(userLedgerDir(options.mode));
}

/** `try`: the step's recipe with the --set changes over seeds, recorded under tries/, then the comparison table. */
async function runTry(options: CliOptions, backend: BackendReport, ledgerDir: string, signal: AbortSignal, charts: LiveCharts | null): Promise<void> {
  const step = options.steps[0]!;
  const applied = tryRecipe(step, options.mode, options.overrides);
  const seeds = capSeeds(options.mode, seedRange(options.seed, options.runs));
  for (const line of describeChange(step, applied)) process.stderr.write(line + '\n');
  if (options.mode !== 'full') process.stderr.write(`${modeNote(options.mode)}\n`);
  const data = await loadData(options);
  const hooks: TryHooks = {
    warmUp: options.warmUp,
    cacheFile: options.mode === 'full' ? preprocessedCacheFile() : undefined,
    signal,
    ...progressHooks((run, seed) => `try step ${String(step).padStart(2, '0')} seed ${seed} (${run + 1}/${seeds.length})`, options.json, charts),
  };
  const measurement = await measureSeeds(applied.recipe, data, seeds, hooks);
  const record = makeStepRecord(applied.recipe, measurement.results, {
    backend,
    machine: describeMachine(),
    source: 'cli',
    mode: options.mode,
    overrides: applied.overrides,
    dataHash: dataHash(data),
  });
  if (!record.runs.some((run) => !run.partial)) return;
  if (options.record) {
    const path = await appendToLedger(record, ledgerDir);
    process.stderr.write(`try of step ${step}: ${measurement.timing}; recorded in ${displayPath(path)} (a try: never compared as step ${step}'s own recipe)\n`);
  }
  const comparison = await compareTry(record, {
    ledgerDir: userLedgerDir(options.mode),
    withReference: true,
    warn: (line) => process.stderr.write(line + '\n'),
  });
  (options.json ? process.stderr : process.stdout).write(formatTryTable(comparison) + '\n');
}

async function main(argv: string[]): Promise<number> {
  // every environment variable against its rule, before any option is acted on or any backend
  // tried; doctor reports them as one of its checks instead
  if (argv[0] !== 'doctor') checkEnvironment();
  if (needsRelay()) return runRelayed(import.meta.url, argv);
  const options = parseCli(argv);
  if (options.help) {
    process.stdout.write(USAGE + '\n');
    return EXIT_CODES.ok;
  }
  for (const note of options.notes) process.stderr.write(note + '\n');
  if (options.command === 'doctor') return doctor({ data: options.data, backend: options.backend }, (line) => process.stdout.write(line + '\n'));
  // a --data that is no folder fails here, as MNIST_DIR does, not after a backend has started
  if (options.data !== undefined && options.command !== 'backends') checkIsFolder(options.data, '--data');
  if (options.command === 'sweep') return runSweepCommand(options);
  // where records go (re-recording the reference refuses quick and workshop modes, and tries) is
  // settled before any work
  const ledgerDir = options.command === 'backends' ? '' : options.command === 'try' ? tryLedgerDir(options) : defaultLedgerDir(options.mode);
  if (options.record && options.command !== 'backends') await checkLedgerWritable(ledgerDir);
  const explain = options.explain || options.command === 'backends';
  const backend = await useBackend({
    name: options.backend,
    explain,
    // automatic selection times the net of the highest step asked for (the ladder's fastest net)
    net: recipeForStep(options.steps.length > 0 ? Math.max(...options.steps) : 8),
    log: (line) => process.stderr.write(line + '\n'),
  });
  if (!explain) process.stderr.write(describeBackend(backend) + '\n');
  if (options.command === 'backends') return EXIT_CODES.ok;

  // SIGINT, SIGTERM, SIGHUP: finish the current batch, save what finished (marked partial), then
  // exit 130, 143 or 129 (cli/interrupt.ts).
  const interrupts = watchInterrupts((line) => process.stderr.write(line + '\n'));
  let charts: LiveCharts | null = null;
  try {
    if (options.plot) {
      charts = await openLiveCharts({ ladder: options.command === 'ladder', machine: `here (${backend.name})` });
      process.stderr.write(`live charts: ${charts.url}\n`);
    }
    if (options.command === 'try') {
      await runTry(options, backend, ledgerDir, interrupts.signal, charts);
      return interrupts.exitCode() ?? EXIT_CODES.ok;
    }
    const summaries = await runSteps(options, backend, ledgerDir, interrupts.signal, charts);
    const out = options.json ? process.stderr : process.stdout;
    if (options.command === 'start' && summaries.length === 1) {
      const s = summaries[0]!;
      out.write(
        `step 8 (${backend.name}): ${s.secondsMean.toFixed(2)} s, ${s.epochsMean} epoch${s.epochsMean === 1 ? '' : 's'}, ` +
          `test accuracy ${s.accuracyMean.toFixed(2)}%${s.partial ? ' (partial)' : ''}\n`,
      );
    } else {
      out.write(formatSummaryTable(summaries) + '\n');
    }
    const interrupted = interrupts.exitCode();
    if (interrupted !== null || charts === null) return interrupted ?? EXIT_CODES.ok;
    interrupts.dispose();
    process.stderr.write(`charts stay at ${charts.url} until Ctrl-C\n`);
    await untilStopped();
    return EXIT_CODES.ok;
  } finally {
    // the chart server (if any) ends with the process
    interrupts.dispose();
  }
}

exitWhenDone(main(process.argv.slice(2)));
