/**
 * The command line's options: parsed and checked before any work starts, each bad value named
 * with the values it may take.
 */
import { resolveRequestedName, type BackendName } from '../lib/backend';
import { UsageError } from '../lib/errors';
import { parseIntegerOption, parseSteps } from '../lib/options';
import { applyOverrides, OVERRIDE_FIELD_NAMES } from '../lib/recipe-overrides';
import { recipeForStep, stepRange } from '../lib/recipes';
import { MODES, parseRunMode, runModeFromEnv, runsCap, RUN_MODES, seedStudyStepsText, type RunMode } from '../lib/run-mode';
import { didYouMean } from '../lib/did-you-mean';

export const USAGE = `usage: mnist-speedrun <command> [options]

commands:
  start                 train step 8 once on the best backend and print time and accuracy
  train --step N        train one step of the ladder
  ladder                train several steps and print the ladder table
  try --from N --set F=V
                        your turn: train step N's recipe with fields changed (--set, repeatable),
                        record it apart (tries/) and compare it with the step's own recipe
  sweep GRID.json       train a grid of changes (JSON: "from", "seeds", "set" or "variants") over
                        seeds on a held-out validation split, record every run (a rerun resumes)
                        and print the variants sorted by time among those reaching 99%
  backends              list the backends and which one would run
  doctor                check the set-up: Node, Python + Jupyter, the tslab kernel, MNIST,
                        the notebooks' library (dist/), the backend; exit 1 if any fails

options:
  --step N              step ${stepRange()} (train)
  --steps LIST          steps for ladder: '${stepRange()}' (default), '4-8', '1,4,8'
  --runs R              timed runs per step (default 1; quick mode: at most 2; workshop mode: at
                        most 1 for steps 1-5 and 5 for ${seedStudyStepsText()})
  --seed S              seed of the first run (default 1); run i uses S+i
  --backend NAME        auto (default), tensorflow, webgpu, wasm, cpu
  --data DIR            folder with the four MNIST .gz files (default: MNIST_DIR, cache, download)
  --validation          stop on 5,000 held-out training images; test once at the end
  --validation-size N   size of that held-out set (not with --quick)
  --workshop            20,000 training images, at most 2 epochs: a few minutes per step
                        (also MNIST_SPEEDRUN_MODE=workshop)
  --quick               tiny subset, short budget, for CI (also MNIST_SPEEDRUN_MODE=quick)
  --mode NAME           full, workshop or quick (the flags above win over MNIST_SPEEDRUN_MODE)
  --from N              try: the step whose recipe is changed
  --set FIELD=VALUE     try: a recipe field to change, repeatable (batchSize=512,
                        schedule.maxLr=0.02, net=slim, stopAtAccuracy=none; fields listed in README)
  --seeds S             try: train seeds 1..S, or --seed .. --seed+S-1 (default 1);
                        sweep: seeds 1..S per variant instead of the grid file's "seeds"
  --name NAME           sweep: the sweep's name (default: the grid file's base name)
  --table               sweep: print the table of what is recorded, training nothing
  --save-table FILE     sweep: also write the saved table (rows, machine, backend, load) to FILE,
                        e.g. to commit a search as a study under results/studies/
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
  workshop: 'boolean',
  mode: 'string',
  from: 'string',
  set: 'string',
  seeds: 'string',
  name: 'string',
  table: 'boolean',
  'save-table': 'string',
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
  /** The run mode (lib/run-mode.ts): --mode, --workshop or --quick, else MNIST_SPEEDRUN_MODE / MNIST_SPEEDRUN_QUICK. */
  mode: RunMode;
  /** try: the recipe fields to change, as typed (`field=value`), checked against the step's recipe. */
  overrides: string[];
  warmUp: boolean;
  record: boolean;
  json: boolean;
  explain: boolean;
  /** Serve live charts of the runs (and the ladder) to the browser, until Ctrl-C after the work. */
  plot: boolean;
  help: boolean;
  /** sweep: the grid file, the sweep's name (--name), seeds per variant (--seeds) and --table. */
  sweep: { grid: string; name: string | undefined; seeds: number | undefined; tableOnly: boolean; saveTable: string | undefined } | null;
  /** Lines to show on stderr before the work starts (e.g. runs capped by quick mode). */
  notes: string[];
}

const COMMANDS = ['start', 'train', 'ladder', 'try', 'sweep', 'backends', 'doctor', 'help'];
const MAX_RUNS = 1000;
const TRAIN_IMAGES = 60_000;

interface RawArgs {
  values: Map<string, string | true>;
  /** Every --set, in order (the one option that may be given more than once). */
  sets: string[];
  positionals: string[];
}

/** Options that may be repeated, each adding one value. */
const REPEATABLE = new Set(['set']);

/**
 * Splits argv into options and positionals. An option that takes a value always takes the next
 * argument ('--seed -1' is then refused by its range check, naming --seed); '--' ends the options.
 */
function splitArgs(argv: readonly string[]): RawArgs {
  const values = new Map<string, string | true>();
  const sets: string[] = [];
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
    if (values.has(name) && !REPEATABLE.has(name)) throw new UsageError(`${flag} is given twice`);
    if (kind === 'boolean') {
      if (eq >= 0) throw new UsageError(`${flag} takes no value, got '${arg.slice(eq + 1)}'`);
      values.set(name, true);
    } else if (eq >= 0) {
      values.set(name, arg.slice(eq + 1));
      if (REPEATABLE.has(name)) sets.push(arg.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value (see --help)`);
      values.set(name, next);
      if (REPEATABLE.has(name)) sets.push(next);
      i++;
    }
  }
  return { values, sets, positionals };
}

function checkStepOptions(command: string, step: string | undefined, steps: string | undefined): number[] {
  if (command === 'train') {
    if (steps !== undefined) throw new UsageError(`train takes --step N, not --steps; use ladder --steps ${steps} for several steps`);
    if (step === undefined) throw new UsageError(`train needs --step N (steps are ${stepRange()})`);
    const parsed = parseSteps(step);
    if (parsed.length !== 1) throw new UsageError(`--step takes one step, got '${step}'; use ladder --steps for several`);
    return parsed;
  }
  if (command === 'try') {
    if (step !== undefined || steps !== undefined) throw new UsageError('try takes --from N (the step whose recipe you change), not --step or --steps');
    return [];
  }
  if (command === 'ladder') {
    if (step !== undefined) throw new UsageError(`ladder takes --steps LIST, not --step; use train --step ${step} for one step, or ladder --steps ${step}`);
    return parseSteps(steps ?? stepRange());
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
  const { values, sets, positionals } = splitArgs(argv);
  const text = (name: string): string | undefined => {
    const value = values.get(name);
    return typeof value === 'string' ? value : undefined;
  };
  const flag = (name: string): boolean => values.get(name) === true;
  const command = positionals[0] ?? 'start';
  if (!COMMANDS.includes(command)) {
    throw new UsageError(`unknown command '${command}'${didYouMean(command, COMMANDS)}: commands are ${COMMANDS.join(', ')}`);
  }
  const help = flag('help') || command === 'help';
  const extra = command === 'sweep' ? 2 : 1;
  if (positionals.length > extra) throw new UsageError(`unexpected argument '${positionals[extra]}' (see --help)`);
  if (command === 'sweep' && !help) return parseSweep(positionals[1], text, flag, values, env);
  for (const name of ['name', 'table', 'save-table'] as const) {
    const value = name === 'name' ? ' NAME' : name === 'save-table' ? ' FILE' : '';
    if (values.has(name)) throw new UsageError(`--${name} is for sweep (sweep GRID.json --${name}${value}), not ${command}`);
  }
  const steps = help ? [] : checkStepOptions(command, text('step'), text('steps'));

  if (flag('plot') && command === 'backends') throw new UsageError('--plot is for start, train and ladder: backends trains nothing to chart');

  const mode = checkMode(flag('quick'), flag('workshop'), text('mode'), env);
  const validationSizeText = text('validation-size');
  const validation = flag('validation') || validationSizeText !== undefined;
  const trainImages = MODES[mode].trainCount ?? TRAIN_IMAGES;
  if (mode === 'quick' && validation) {
    const asked = flag('validation') ? '--validation' : '--validation-size';
    const by = flag('quick') ? '--quick' : text('mode') !== undefined ? '--mode quick' : env.MNIST_SPEEDRUN_MODE?.trim() === 'quick' ? 'MNIST_SPEEDRUN_MODE=quick' : 'MNIST_SPEEDRUN_QUICK';
    throw new UsageError(
      `${by} and ${asked} cannot be combined: quick mode trains on ${trainImages.toLocaleString('en-US')} images, too few to hold out a validation set; drop one of them`,
    );
  }
  if (command === 'try' && validation) {
    throw new UsageError(`try measures the test set like the step's own runs, without a validation set: drop ${flag('validation') ? '--validation' : '--validation-size'}`);
  }
  const validationCount = validation
    ? validationSizeText === undefined
      ? 5000
      : parseIntegerOption('--validation-size', validationSizeText, 1, trainImages - 1, mode === 'full' ? '' : ` (${mode} mode trains on ${trainImages.toLocaleString('en-US')} images)`)
    : 0;

  const { from, overrides, seedsText } = checkTryOptions(command, text('from'), values.has('set') ? sets : [], text('seeds'), text('runs'));
  const tried = from === null ? steps : [from];

  const notes: string[] = [];
  const runsText = seedsText ?? text('runs');
  const runsName = seedsText === undefined ? '--runs' : '--seeds';
  const runs = runsText === undefined ? 1 : parseIntegerOption(runsName, runsText, 1, MAX_RUNS);
  notes.push(...capNotes(mode, tried, runs, runsName));
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
    steps: tried,
    runs,
    seed,
    backend: resolveRequestedName(text('backend'), env),
    data: checkData(text('data')),
    validationCount,
    mode,
    overrides,
    warmUp: !flag('no-warm-up'),
    record: !flag('no-record'),
    json: flag('json'),
    explain: flag('explain'),
    plot: flag('plot'),
    help,
    sweep: null,
    notes,
  };
}

/** Options sweep does not take, each with why. */
const NOT_FOR_SWEEP: ReadonlyArray<[string, string]> = [
  ['step', 'the grid file\'s "from" names the step'],
  ['steps', 'the grid file\'s "from" names the step'],
  ['from', 'the grid file\'s "from" names the step'],
  ['set', 'write the changes in the grid file ("set" or "variants")'],
  ['runs', 'give --seeds S (seeds 1..S per variant)'],
  ['seed', 'a sweep trains seeds 1..S per variant'],
  ['validation', 'a sweep always holds out a validation split (the grid file\'s "validation", default 5,000)'],
  ['validation-size', 'write "validation": N in the grid file'],
  ['plot', 'a sweep prints a table, it draws no live charts'],
  ['no-record', 'it records every run so that a rerun resumes (--table trains nothing)'],
];

/** `sweep GRID.json [--workshop|--quick] [--name NAME] [--seeds S] [--table] [--save-table FILE] [--json]`. */
function parseSweep(
  grid: string | undefined,
  text: (name: string) => string | undefined,
  flag: (name: string) => boolean,
  values: Map<string, string | true>,
  env: NodeJS.ProcessEnv,
): CliOptions {
  if (grid === undefined || grid === '') throw new UsageError('sweep needs a grid file: mnist-speedrun sweep GRID.json (bench/grids/step8-batch.json is an example)');
  for (const [name, why] of NOT_FOR_SWEEP) if (values.has(name)) throw new UsageError(`sweep takes no --${name}: ${why}`);
  const mode = checkMode(flag('quick'), flag('workshop'), text('mode'), env);
  const seedsText = text('seeds');
  const seeds = seedsText === undefined ? undefined : parseIntegerOption('--seeds', seedsText, 1, MAX_RUNS);
  return {
    command: 'sweep',
    steps: [],
    runs: 1,
    seed: 1,
    backend: resolveRequestedName(text('backend'), env),
    data: checkData(text('data')),
    validationCount: 0,
    mode,
    overrides: [],
    warmUp: !flag('no-warm-up'),
    record: !flag('no-record'),
    json: flag('json'),
    explain: flag('explain'),
    plot: false,
    help: false,
    sweep: { grid, name: text('name'), seeds, tableOnly: flag('table'), saveTable: text('save-table') },
    notes: [],
  };
}

/**
 * The run mode: --quick, --workshop or --mode NAME (at most one of them, or all naming one mode),
 * else MNIST_SPEEDRUN_MODE or MNIST_SPEEDRUN_QUICK. A flag wins over the environment.
 */
function checkMode(quick: boolean, workshop: boolean, modeText: string | undefined, env: NodeJS.ProcessEnv): RunMode {
  const asked: Array<[string, RunMode]> = [];
  if (quick) asked.push(['--quick', 'quick']);
  if (workshop) asked.push(['--workshop', 'workshop']);
  if (modeText !== undefined) asked.push([`--mode ${modeText}`, parseRunMode(modeText)]);
  const modes = new Set(asked.map(([, mode]) => mode));
  if (modes.size > 1) throw new UsageError(`${asked.map(([flag]) => flag).join(' and ')} ask for different run modes: give one of ${RUN_MODES.map((m) => `--mode ${m}`).join(', ')}`);
  return asked[0]?.[1] ?? runModeFromEnv(env);
}

/** try's own options (--from, --set, --seeds), refused with any other command; the changes are checked against the step's recipe now. */
function checkTryOptions(
  command: string,
  fromText: string | undefined,
  sets: string[],
  seedsText: string | undefined,
  runsText: string | undefined,
): { from: number | null; overrides: string[]; seedsText: string | undefined } {
  if (command !== 'try') {
    const given = fromText !== undefined ? '--from' : sets.length > 0 ? '--set' : seedsText !== undefined ? '--seeds' : undefined;
    if (given !== undefined) throw new UsageError(`${given} is for try (try --from N --set FIELD=VALUE), not ${command}`);
    return { from: null, overrides: [], seedsText: undefined };
  }
  if (fromText === undefined) throw new UsageError(`try needs --from N, the step whose recipe you change (steps are ${stepRange()})`);
  if (runsText !== undefined) throw new UsageError(`try takes --seeds S (seeds 1..S), not --runs; use try --seeds ${runsText}`);
  const from = parseSteps(fromText);
  if (from.length !== 1) throw new UsageError(`--from takes one step, got '${fromText}'`);
  if (sets.length === 0) {
    throw new UsageError(`try needs at least one --set FIELD=VALUE (fields: ${OVERRIDE_FIELD_NAMES.join(', ')}); train --step ${from[0]} trains the recipe unchanged`);
  }
  // every change checked against the step's recipe now: a bad one is refused before any training
  applyOverrides(recipeForStep(from[0]!), sets);
  return { from: from[0]!, overrides: sets, seedsText };
}

/** One line for each cap the mode puts on `runs` over `steps` ('quick mode: --runs 5 capped at 2'). */
function capNotes(mode: RunMode, steps: readonly number[], runs: number, name: string): string[] {
  const byCap = new Map<number, number[]>();
  for (const step of steps) {
    const cap = runsCap(mode, step);
    if (cap !== null && cap < runs) byCap.set(cap, [...(byCap.get(cap) ?? []), step]);
  }
  return [...byCap].map(([cap, capped]) => {
    const which = capped.length === steps.length ? '' : ` for step${capped.length === 1 ? '' : 's'} ${capped.join(', ')}`;
    return `${mode} mode: ${name} ${runs} capped at ${cap}${which}`;
  });
}
