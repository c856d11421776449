/**
 * The command line's options: parsed and checked before any work starts, each bad value named
 * with the values it may take.
 */
import { resolveRequestedName, type BackendName } from '../lib/backend';
import { UsageError } from '../lib/errors';
import { parseIntegerOption, parseSteps } from '../lib/options';
import { QUICK, isQuickMode } from '../lib/quick';
import { didYouMean } from '../lib/did-you-mean';

export const USAGE = `usage: mnist-speedrun <command> [options]

commands:
  start                 train step 8 once on the best backend and print time and accuracy
  train --step N        train one step of the ladder
  ladder                train several steps and print the ladder table
  backends              list the backends and which one would run
  doctor                check the set-up: Node, Python + Jupyter, the tslab kernel, MNIST,
                        the notebooks' library (dist/), the backend; exit 1 if any fails

options:
  --step N              step 1-8 (train)
  --steps LIST          steps for ladder: '1-8' (default), '4-8', '1,4,8'
  --runs R              timed runs per step (default 1; quick mode: at most 2)
  --seed S              seed of the first run (default 1); run i uses S+i
  --backend NAME        auto (default), tensorflow, webgpu, wasm, cpu
  --data DIR            folder with the four MNIST .gz files (default: MNIST_DIR, cache, download)
  --validation          stop on 5,000 held-out training images; test once at the end
  --validation-size N   size of that held-out set (not with --quick)
  --quick               small subset, short budget (also MNIST_SPEEDRUN_QUICK=1)
  --no-warm-up          skip the untimed warm-up run
  --no-record           do not write results to the ledger
  --json                print one JSON object per finished run on stdout
  --explain             time the candidate backends again (auto), say why others were skipped
  --plot                live charts in the browser (runs, ladder); served until Ctrl-C
  -h, --help            this text`;

type OptionKind = 'string' | 'boolean';

const OPTIONS: Record<string, OptionKind> = {
  step: 'string',
  steps: 'string',
  runs: 'string',
  seed: 'string',
  backend: 'string',
  data: 'string',
  validation: 'boolean',
  'validation-size': 'string',
  quick: 'boolean',
  'no-warm-up': 'boolean',
  'no-record': 'boolean',
  json: 'boolean',
  explain: 'boolean',
  plot: 'boolean',
  help: 'boolean',
};
const OPTION_NAMES = Object.keys(OPTIONS).map((name) => `--${name}`);

export interface CliOptions {
  command: string;
  steps: number[];
  runs: number;
  seed: number;
  backend: BackendName;
  data: string | undefined;
  validationCount: number;
  quick: boolean;
  warmUp: boolean;
  record: boolean;
  json: boolean;
  explain: boolean;
  /** Serve live charts of the runs (and the ladder) to the browser, until Ctrl-C after the work. */
  plot: boolean;
  help: boolean;
  /** Lines to show on stderr before the work starts (e.g. runs capped by quick mode). */
  notes: string[];
}

const COMMANDS = ['start', 'train', 'ladder', 'backends', 'doctor', 'help'];
const MAX_RUNS = 1000;
const TRAIN_IMAGES = 60_000;

interface RawArgs {
  values: Map<string, string | true>;
  positionals: string[];
}

/**
 * Splits argv into options and positionals. An option that takes a value always takes the next
 * argument ('--seed -1' is then refused by its range check, naming --seed); '--' ends the options.
 */
function splitArgs(argv: readonly string[]): RawArgs {
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      values.set('help', true);
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const name = flag.replace(/^--?/, '');
    const kind = flag.startsWith('--') ? OPTIONS[name] : undefined;
    if (kind === undefined) {
      throw new UsageError(`unknown option '${flag}'${didYouMean(flag, OPTION_NAMES)} (see --help)`);
    }
    if (values.has(name)) throw new UsageError(`${flag} is given twice`);
    if (kind === 'boolean') {
      if (eq >= 0) throw new UsageError(`${flag} takes no value, got '${arg.slice(eq + 1)}'`);
      values.set(name, true);
    } else if (eq >= 0) {
      values.set(name, arg.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value (see --help)`);
      values.set(name, next);
      i++;
    }
  }
  return { values, positionals };
}

function checkStepOptions(command: string, step: string | undefined, steps: string | undefined): number[] {
  if (command === 'train') {
    if (steps !== undefined) throw new UsageError(`train takes --step N, not --steps; use ladder --steps ${steps} for several steps`);
    if (step === undefined) throw new UsageError('train needs --step N (steps are 1-8)');
    const parsed = parseSteps(step);
    if (parsed.length !== 1) throw new UsageError(`--step takes one step, got '${step}'; use ladder --steps for several`);
    return parsed;
  }
  if (command === 'ladder') {
    if (step !== undefined) throw new UsageError(`ladder takes --steps LIST, not --step; use train --step ${step} for one step, or ladder --steps ${step}`);
    return parseSteps(steps ?? '1-8');
  }
  if (step !== undefined || steps !== undefined) {
    const given = step !== undefined ? '--step' : '--steps';
    throw new UsageError(`${command} takes no ${given}; use train --step N or ladder --steps LIST`);
  }
  return [8];
}

/** --data as given; an empty value (`--data=`, `--data ""`) names no folder and is refused. */
function checkData(data: string | undefined): string | undefined {
  if (data === '') throw new UsageError("--data needs a folder holding MNIST, got ''; give the folder, or leave --data out to use MNIST_DIR or the cache");
  return data;
}

/** Parses and checks every option before any work starts. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  const { values, positionals } = splitArgs(argv);
  const text = (name: string): string | undefined => {
    const value = values.get(name);
    return typeof value === 'string' ? value : undefined;
  };
  const flag = (name: string): boolean => values.get(name) === true;
  const command = positionals[0] ?? 'start';
  if (!COMMANDS.includes(command)) {
    throw new UsageError(`unknown command '${command}'${didYouMean(command, COMMANDS)}: commands are ${COMMANDS.join(', ')}`);
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (see --help)`);
  const help = flag('help') || command === 'help';
  const steps = help ? [] : checkStepOptions(command, text('step'), text('steps'));

  if (flag('plot') && command === 'backends') throw new UsageError('--plot is for start, train and ladder: backends trains nothing to chart');

  const quick = flag('quick') || isQuickMode(env);
  const validationSizeText = text('validation-size');
  const validation = flag('validation') || validationSizeText !== undefined;
  if (quick && validation) {
    const asked = flag('validation') ? '--validation' : '--validation-size';
    const by = flag('quick') ? '--quick' : 'MNIST_SPEEDRUN_QUICK';
    throw new UsageError(
      `${by} and ${asked} cannot be combined: quick mode trains on ${QUICK.trainCount.toLocaleString('en-US')} images, too few to hold out a validation set; drop one of them`,
    );
  }
  const validationCount = validation
    ? validationSizeText === undefined
      ? 5000
      : parseIntegerOption('--validation-size', validationSizeText, 1, TRAIN_IMAGES - 1)
    : 0;

  const notes: string[] = [];
  const runsText = text('runs');
  let runs = runsText === undefined ? 1 : parseIntegerOption('--runs', runsText, 1, MAX_RUNS);
  if (quick && runs > QUICK.runs) {
    notes.push(`quick mode: --runs ${runs} capped at ${QUICK.runs}`);
    runs = QUICK.runs;
  }
  // run i uses seed + i, so the last run's seed must be a safe integer too
  const seedText = text('seed');
  const seed = seedText === undefined ? 1 : parseIntegerOption(
          '--seed',
          seedText,
          0,
          Number.MAX_SAFE_INTEGER - (runs - 1),
          runs > 1 ? ` (run i uses seed+i, and the last of ${runs} runs must stay within 2^53 - 1)` : '',
        );

  return {
    command,
    steps,
    runs,
    seed,
    backend: resolveRequestedName(text('backend'), env),
    data: checkData(text('data')),
    validationCount,
    quick,
    warmUp: !flag('no-warm-up'),
    record: !flag('no-record'),
    json: flag('json'),
    explain: flag('explain'),
    plot: flag('plot'),
    help,
    notes,
  };
}
