/**
 * The command line's options: parsed and checked before any work starts, each bad value named
 * with the values it may take.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolveRequestedName, type BackendName } from '../lib/backend';
import { UsageError } from '../lib/errors';
import { checkPositiveInteger, parseNumberOption, parseSteps } from '../lib/options';
import { isQuickMode } from '../lib/quick';

export const USAGE = `usage: mnist-speedrun <command> [options]

commands:
  start                 train step 8 once on the best backend and print time and accuracy
  train --step N        train one step of the ladder
  ladder                train several steps and print the ladder table
  backends              list the backends and which one would run

options:
  --step N              step 1-8 (train)
  --steps LIST          steps for ladder: '1-8' (default), '4-8', '1,4,8'
  --runs R              timed runs per step (default 1)
  --seed S              seed of the first run (default 1); run i uses S+i
  --backend NAME        auto (default), tensorflow, webgpu, wasm, cpu
  --data DIR            folder with the four MNIST .gz files (default: MNIST_DIR, cache, download)
  --validation          stop on 5,000 held-out training images; test once at the end
  --validation-size N   size of that held-out set
  --quick               small subset, short budget (also MNIST_SPEEDRUN_QUICK=1)
  --no-warm-up          skip the untimed warm-up run
  --no-record           do not write results to the ledger
  --json                print one JSON object per finished run on stdout
  --explain             say why each faster backend was skipped
  -h, --help            this text`;

const OPTIONS = {
  step: { type: 'string' },
  steps: { type: 'string' },
  runs: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  data: { type: 'string' },
  validation: { type: 'boolean' },
  'validation-size': { type: 'string' },
  quick: { type: 'boolean' },
  'no-warm-up': { type: 'boolean' },
  'no-record': { type: 'boolean' },
  json: { type: 'boolean' },
  explain: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

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
  help: boolean;
}

const COMMANDS = ['start', 'train', 'ladder', 'backends', 'help'];

/** Parses and checks every option before any work starts. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see --help)`);
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? 'start';
  if (!COMMANDS.includes(command)) {
    throw new UsageError(`unknown command '${command}': commands are ${COMMANDS.join(', ')}`);
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (see --help)`);
  const integer = (field: string, text: string | undefined, fallback: number): number =>
    text === undefined ? fallback : checkPositiveInteger(field, parseNumberOption(field, text));

  let steps: number[];
  if (command === 'train') {
    if (values.step === undefined) throw new UsageError('train needs --step N (steps are 1-8)');
    steps = parseSteps(values.step);
    if (steps.length !== 1) throw new UsageError(`--step takes one step, got '${values.step}'; use ladder --steps for several`);
  } else if (command === 'ladder') {
    steps = parseSteps(values.steps ?? '1-8');
  } else {
    steps = [8];
  }
  const seedText = values.seed;
  const seed = seedText === undefined ? 1 : parseNumberOption('--seed', seedText);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got '${seedText}'`);
  const validationSize = integer('--validation-size', values['validation-size'], 5000);
  return {
    command,
    steps,
    runs: integer('--runs', values.runs, 1),
    seed,
    backend: resolveRequestedName(values.backend, env),
    data: values.data,
    validationCount: values.validation || values['validation-size'] !== undefined ? validationSize : 0,
    quick: Boolean(values.quick) || isQuickMode(env),
    warmUp: !values['no-warm-up'],
    record: !values['no-record'],
    json: Boolean(values.json),
    explain: Boolean(values.explain),
    help: Boolean(values.help) || command === 'help',
  };
}

