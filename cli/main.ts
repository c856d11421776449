/**
 * The command line: `mnist-speedrun start | train | ladder | backends`. Every failure ends with a
 * one-line reason on stderr and a non-zero exit code (README: "Exit codes").
 */
import { loadMnist, takeSubset, type MnistArrays } from '../lib/data';
import { preprocessedCacheFile } from '../lib/preprocessed-cache';
import { describeBackend, useBackend, type BackendReport } from '../lib/backend';
import { EXIT_CODES, exitCodeFor } from '../lib/errors';
import { appendToLedger } from '../lib/ledger';
import { describeMachine } from '../lib/machine';
import { measureRecipe, type Measurement } from '../lib/measure';
import { QUICK, quickRecipe } from '../lib/quick';
import { recipeForStep } from '../lib/recipes';
import { formatSummaryTable, makeStepRecord, runJsonLine, summarize, type StepSummary } from '../lib/results';
import { USAGE, parseCli, type CliOptions } from './args';
import { progressBar, type ProgressBar } from './progress';

async function loadData(options: CliOptions): Promise<MnistArrays> {
  const data = await loadMnist({ dir: options.data });
  return options.quick ? takeSubset(data, QUICK.trainCount, QUICK.testCount) : data;
}

/** Runs the options' steps; records each step as it finishes so an interruption loses nothing done. */
async function runSteps(options: CliOptions, backend: BackendReport, signal: AbortSignal): Promise<StepSummary[]> {
  const data = await loadData(options);
  const machine = describeMachine();
  const summaries: StepSummary[] = [];
  for (const step of options.steps) {
    if (signal.aborted) break;
    const recipe = options.quick ? quickRecipe(recipeForStep(step)) : recipeForStep(step);
    let bar: ProgressBar | null = null;
    const measurement: Measurement = await measureRecipe(recipe, data, {
      runs: options.runs,
      seed: options.seed,
      warmUp: options.warmUp,
      validationCount: options.validationCount,
      cacheFile: options.quick ? undefined : preprocessedCacheFile(),
      signal,
      onRunStart: (run, seed) => {
        bar = progressBar(`step ${String(step).padStart(2, '0')} run ${run + 1}/${options.runs} (seed ${seed})`);
      },
      onBatch: (_, p) => bar?.onBatch(p),
      onEpoch: (_, r) => bar?.onEpoch(r),
      onRunEnd: (_, result) => {
        bar?.done();
        if (options.json) process.stdout.write(runJsonLine(result) + '\n');
      },
    });
    if (measurement.results.length === 0) break;
    const record = makeStepRecord(recipe, measurement.results, {
      backend: backend.name,
      device: backend.device,
      machine,
      source: 'cli',
      quick: options.quick,
    });
    if (options.record) {
      const path = await appendToLedger(record);
      process.stderr.write(`step ${step}: ${measurement.timing}; recorded in ${path}\n`);
    }
    summaries.push(summarize(record));
  }
  return summaries;
}

async function main(argv: string[]): Promise<number> {
  const options = parseCli(argv);
  if (options.help) {
    process.stdout.write(USAGE + '\n');
    return EXIT_CODES.ok;
  }
  const explain = options.explain || options.command === 'backends';
  const backend = await useBackend({
    name: options.backend,
    explain,
    log: (line) => process.stderr.write(line + '\n'),
  });
  if (!explain) process.stderr.write(describeBackend(backend) + '\n');
  if (options.command === 'backends') return EXIT_CODES.ok;

  // First Ctrl-C: finish the current batch, save what finished (marked partial), exit 130.
  // A second Ctrl-C exits at once.
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_CODES.interrupted);
    process.stderr.write('\ninterrupted: saving partial results (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const summaries = await runSteps(options, backend, controller.signal);
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
    return controller.signal.aborted ? EXIT_CODES.interrupted : EXIT_CODES.ok;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message.split('\n')[0]}\n`);
    if (process.env.MNIST_SPEEDRUN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exit(exitCodeFor(error));
  },
);
