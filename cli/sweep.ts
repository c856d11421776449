/**
 * `mnist-speedrun sweep GRID.json`: the grid checked whole before anything trains, the runs already
 * recorded skipped, the rest trained with a progress bar on stderr (variant, seed, elapsed, ETA),
 * each recorded as it finishes; then the table on stdout (or its rows as JSON with --json).
 * `--table` prints the table of what is recorded, training nothing.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../lib/atomic-file';
import { describeBackend, useBackend } from '../lib/backend';
import { loadMnist } from '../lib/data';
import { EXIT_CODES } from '../lib/errors';
import { dataHash } from '../lib/fingerprint';
import { userLedgerDir } from '../lib/ledger';
import { checkLedgerWritable } from '../lib/ledger-probe';
import { describeMachine } from '../lib/machine';
import { displayPath } from '../lib/project-root';
import { recipeForStep } from '../lib/recipes';
import { modeData, modeNote } from '../lib/run-mode';
import { etaSeconds, planSweep, sweepName, sweepTableLike } from '../lib/sweep';
import type { StepRecord } from '../lib/results';
import { planOf, readSweepGrid, saveSweepTable, sweepRecords, sweepTableRows, trainSweep, type SweepPlan } from '../lib/sweep-run';
import { textTable } from '../lib/text-table';
import { formatDuration } from '../lib/timing';
import type { CliOptions } from './args';
import { watchInterrupts } from './interrupt';
import { progressBar, type ProgressBar } from './progress';

const warn = (line: string): void => void process.stderr.write(line + '\n');

/** Prints the table (text on stdout, or its rows as JSON) and saves it beside the records. */
async function printTable(plan: SweepPlan, records: readonly StepRecord[], json: boolean, copyTo: string | undefined): Promise<void> {
  const rows = sweepTableRows(plan, records, warn);
  if (json) process.stdout.write(JSON.stringify(rows, null, 1) + '\n');
  else {
    const caption = `sweep ${plan.name}: step ${plan.step}, ${plan.mode} mode, validation accuracy on ${plan.validation.toLocaleString('en-US')} held-out training images (the test set is not used)`;
    process.stdout.write(textTable(sweepTableLike(rows), caption) + '\n');
  }
  const saved = await saveSweepTable(plan, rows, records);
  warn(`table saved in ${displayPath(saved)}`);
  if (copyTo !== undefined) {
    await writeFileAtomic(copyTo, await readFile(saved, 'utf8'));
    warn(`and in ${displayPath(copyTo)}`);
  }
}

export async function runSweepCommand(options: CliOptions): Promise<number> {
  const sweep = options.sweep!;
  const grid = await readSweepGrid(sweep.grid);
  const name = sweepName(sweep.grid, sweep.name);
  const plan = planOf(grid, { where: sweep.grid, name, mode: options.mode, modeLedgerDir: userLedgerDir(options.mode), seeds: sweep.seeds });
  const asked = sweep.seeds ?? grid.seeds;
  if (plan.seeds.length < asked) warn(`${options.mode} mode: ${asked} seeds capped at ${plan.seeds.length}`);
  const { all, pending } = planSweep(plan.variants, plan.seeds, await sweepRecords(plan, warn));
  if (sweep.tableOnly) {
    await printTable(plan, await sweepRecords(plan, warn), options.json, sweep.saveTable);
    return EXIT_CODES.ok;
  }
  await checkLedgerWritable(plan.dir, '');
  const recorded = all.length - pending.length;
  warn(`sweep ${name}: ${plan.variants.length} variant${plan.variants.length === 1 ? '' : 's'} of step ${plan.step} x ${plan.seeds.length} seed${plan.seeds.length === 1 ? '' : 's'}, judged on ${plan.validation.toLocaleString('en-US')} held-out training images; records in ${displayPath(plan.dir)}`);
  if (options.mode !== 'full') warn(modeNote(options.mode));
  if (recorded > 0) warn(`resuming: ${recorded} of ${all.length} runs already recorded`);
  if (pending.length === 0) {
    warn('nothing to train');
    await printTable(plan, await sweepRecords(plan, warn), options.json, sweep.saveTable);
    return EXIT_CODES.ok;
  }

  const backend = await useBackend({ name: options.backend, explain: options.explain, net: recipeForStep(plan.step), log: warn });
  if (!options.explain) warn(describeBackend(backend));
  const data = modeData(await loadMnist({ dir: options.data }), options.mode);
  const interrupts = watchInterrupts(warn);
  try {
    const started = performance.now();
    let finished = 0;
    let bar: ProgressBar | null = null;
    const count = await trainSweep(
      plan,
      pending,
      recorded,
      { data, backend, machine: describeMachine(), dataHash: dataHash(data), source: 'cli' },
      {
        noWarmUp: !options.warmUp,
        signal: interrupts.signal,
        onRunStart: (run, done, total) => {
          const elapsed = (performance.now() - started) / 1000;
          const eta = etaSeconds(elapsed, finished, pending.length - finished);
          const timing = `elapsed ${formatDuration(elapsed * 1000)}, ETA ${eta === null ? 'after the first run' : formatDuration(eta * 1000)}`;
          bar = progressBar(`variant ${run.variant.index}/${plan.variants.length} seed ${plan.seeds.indexOf(run.seed) + 1}/${plan.seeds.length} (run ${done + 1}/${total}; ${timing})`);
        },
        onBatch: (p) => bar?.onBatch(p),
        onEpoch: (r) => bar?.onEpoch(r),
        onRunEnd: (run, result) => {
          if (!result.partial) finished++;
          bar?.done(result);
        },
      },
    );
    const interrupted = interrupts.exitCode();
    if (interrupted !== null) {
      warn(`interrupted: ${recorded + count} of ${all.length} runs recorded (the unfinished one is not); run the same command again to resume`);
    }
    await printTable(plan, await sweepRecords(plan, warn), options.json, sweep.saveTable);
    return interrupted ?? EXIT_CODES.ok;
  } finally {
    interrupts.dispose();
  }
}
