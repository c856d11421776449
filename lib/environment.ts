/**
 * Every environment variable mnist-speedrun reads, each with one rule, checked the same way
 * wherever it is read: all at once by `checkEnvironment` before any work starts (the CLI before it
 * picks a backend, the bench, the notebooks' `startSession`), and one by one by `readSetting`
 * where a value is used, so no two places can disagree about what a value means.
 *
 * Every refusal has one shape: `NAME='value' is not allowed: <what is wrong>; use <allowed>, or
 * unset it`, a UsageError (exit 2); MNIST_DIR's is a data error (exit 3), as --data's is. An empty
 * value is the same as unset, except for MNIST_SPEEDRUN_MIRRORS, where empty means "never
 * download". Words (yes/no values, names, counts) may carry spaces around them; paths and URLs are
 * taken as given. A variable named MNIST_SPEEDRUN_* that is none of these is refused as well, so a
 * misspelt setting is never silently ignored.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { closest } from './did-you-mean';
import { UsageError, type SpeedrunError } from './errors';
import { fontFamilyName } from './font-name';
import { isMnistFileName, MNIST_FILES, MNIST_MIRRORS, MnistNotFoundError } from './mnist-files';

export type Env = Readonly<Record<string, string | undefined>>;

export type BackendName = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
/** What `--backend`, MNIST_SPEEDRUN_BACKEND and `useBackend({ name })` accept. */
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/**
 * Emscripten pre-spawns this many workers (`pthreadPoolSize=8` in tfjs-backend-wasm 4.22's glue);
 * more would need a `Worker` constructor after lib/wasm/threads.ts has removed the global one.
 */
export const MAX_WASM_THREADS = 8;

/** One environment variable: its name, what it accepts, and how a set value is read. */
export interface Setting<T> {
  readonly name: string;
  /** The allowed values, as the error message and the README's table say them. */
  readonly allowed: string;
  /** Words are trimmed before they are read; paths and URL lists are taken as given. */
  readonly trim: boolean;
  /** True when an empty value means something of its own; otherwise empty is the same as unset. */
  readonly emptyHasMeaning?: boolean;
  /** The error a refused value raises (default: UsageError, exit 2). */
  readonly error?: (message: string) => SpeedrunError;
  /** The value a set setting means; throws `Refusal` when the rule does not allow it. */
  parse(value: string): T;
}

/** Thrown by a rule: what is wrong with the value ('' when "use <allowed>" says it all). */
export class Refusal extends Error {
  override name = 'Refusal';
}

const PREFIX = 'MNIST_SPEEDRUN_';
const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

/** A yes/no setting: the same spellings for every one of them, anything else refused. */
function yesNo(name: string, whatYesDoes: string): Setting<boolean> {
  return {
    name,
    trim: true,
    allowed: `1, true, yes or on (${whatYesDoes}), or 0, false, no or off`,
    parse: (value) => {
      const word = value.toLowerCase();
      if (TRUE_WORDS.includes(word)) return true;
      if (FALSE_WORDS.includes(word)) return false;
      throw new Refusal('');
    },
  };
}

/** What is at `file`: 'missing', 'folder', 'file' or 'other' (a socket, a device). */
function kindOf(file: string): 'missing' | 'folder' | 'file' | 'other' {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw new Refusal(`it cannot be read (${code ?? (error as Error).message})`);
  }
  return stat.isDirectory() ? 'folder' : stat.isFile() ? 'file' : 'other';
}

export const MNIST_DIR: Setting<string> = {
  name: 'MNIST_DIR',
  trim: false,
  allowed: `a folder holding the four MNIST files ${MNIST_FILES.map((file) => file.name).join(', ')} (gzipped or un-gzipped) or torchvision's MNIST/raw`,
  error: (message) => new MnistNotFoundError(message),
  parse: (value) => {
    const kind = kindOf(value);
    if (kind === 'folder') return value;
    if (kind === 'missing') throw new Refusal('it does not exist');
    const hint = isMnistFileName(path.basename(value)) ? ` (to use the folder it is in: MNIST_DIR=${path.dirname(value)})` : '';
    throw new Refusal(`it is a file${hint}`);
  },
};

export const MIRRORS: Setting<readonly string[]> = {
  name: 'MNIST_SPEEDRUN_MIRRORS',
  trim: false,
  emptyHasMeaning: true,
  allowed: `http(s) base URLs separated by spaces or commas, such as ${MNIST_MIRRORS[0]}, or set it empty to never download`,
  parse: (value) =>
    value.split(/[\s,]+/).filter(Boolean).map((url) => {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new Refusal(`'${url}' is not a URL`);
      }
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Refusal(`'${url}' is not an http(s) URL`);
      return url.endsWith('/') ? url : `${url}/`;
    }),
};

/** The XDG base-directory spec calls a relative XDG_CACHE_HOME invalid and says to ignore it: undefined then. */
export const XDG_CACHE_HOME: Setting<string | undefined> = {
  name: 'XDG_CACHE_HOME',
  trim: false,
  allowed: 'an absolute path (a relative one is ignored, as the XDG spec says); a cache that cannot be written costs one warning',
  parse: (value) => (path.isAbsolute(value) ? value : undefined),
};

export const BACKEND: Setting<BackendName> = {
  name: 'MNIST_SPEEDRUN_BACKEND',
  trim: true,
  allowed: `${BACKEND_NAMES.slice(0, -1).join(', ')} or ${BACKEND_NAMES.at(-1)!}`,
  parse: (value) => {
    if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
    throw new Refusal('');
  },
};

export const RETIME = yesNo('MNIST_SPEEDRUN_RETIME', 'automatic selection times the backends again instead of reusing the remembered choice');

export const WASM_THREADS: Setting<number | 'auto'> = {
  name: 'MNIST_SPEEDRUN_WASM_THREADS',
  trim: true,
  allowed: `auto (every core) or a whole number of threads from 0 (0 and 1: one thread; more than ${MAX_WASM_THREADS} counts as ${MAX_WASM_THREADS})`,
  parse: (value) => {
    if (value === 'auto') return 'auto';
    const count = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(count)) throw new Refusal('');
    return Math.max(1, count);
  },
};

export const WASM_SIMD: Setting<'auto' | 'simd' | 'relaxed'> = {
  name: 'MNIST_SPEEDRUN_WASM_SIMD',
  trim: true,
  allowed: 'auto (relaxed SIMD, with fused multiply-add, where the runtime has it), simd or relaxed',
  parse: (value) => {
    if (value === 'auto' || value === 'simd' || value === 'relaxed') return value;
    throw new Refusal('');
  },
};

export const QUICK = yesNo('MNIST_SPEEDRUN_QUICK', 'quick mode: a small subset and a short budget; the same as MNIST_SPEEDRUN_MODE=quick');

/** The run modes of lib/run-mode.ts, by name (that file holds what each one trains). */
export const MODE_NAMES = ['full', 'workshop', 'quick'] as const;

export const MODE: Setting<(typeof MODE_NAMES)[number]> = {
  name: 'MNIST_SPEEDRUN_MODE',
  trim: true,
  allowed: 'full (all of MNIST, each recipe as written), workshop (a fixed subset and at most 2 epochs: a few minutes per notebook) or quick (a tiny subset, for CI)',
  parse: (value) => {
    const name = MODE_NAMES.find((mode) => mode === value);
    if (name === undefined) throw new Refusal('');
    return name;
  },
};

export const LEDGER: Setting<string> = {
  name: 'MNIST_SPEEDRUN_LEDGER',
  trim: false,
  allowed: 'a folder for your ledger (created if missing; quick and workshop runs go to its quick/ and workshop/ folders)',
  parse: (value) => {
    const kind = kindOf(value);
    if (kind === 'file' || kind === 'other') throw new Refusal('it is a file');
    return value;
  },
};

export const REFERENCE = yesNo('MNIST_SPEEDRUN_REFERENCE', 're-record the committed reference results, full runs only');

export const FONT: Setting<string> = {
  name: 'MNIST_SPEEDRUN_FONT',
  trim: false,
  allowed: 'a readable TrueType or OpenType font file (.ttf, .otf or .ttc)',
  parse: (value) => {
    const kind = kindOf(value);
    if (kind === 'missing') throw new Refusal('it does not exist');
    if (kind !== 'file') throw new Refusal(`it is a ${kind === 'folder' ? 'folder' : 'special file'}`);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(value);
    } catch (error) {
      throw new Refusal(`it cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (fontFamilyName(bytes) === null) throw new Refusal('it is not a TrueType or OpenType font with a family name');
    return value;
  },
};

export const DEBUG = yesNo('MNIST_SPEEDRUN_DEBUG', 'print the stack trace of an error');

/** Every setting, in the order the README's table lists them. */
export const SETTINGS: ReadonlyArray<Setting<unknown>> = [
  MNIST_DIR, MIRRORS, XDG_CACHE_HOME, BACKEND, RETIME, WASM_THREADS, WASM_SIMD, MODE, QUICK, LEDGER, REFERENCE, FONT, DEBUG,
];

/** Set by the CLI for the child it runs its work in (cli/relay.ts); not a user setting. */
export const CLI_CHILD = 'MNIST_SPEEDRUN_CLI_CHILD';

/** `value` quoted for a one-line message: control characters (a newline pasted by mistake) escaped. */
function quoted(value: string): string {
  return `'${value.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}

/** The one message shape of a refused setting. */
export function notAllowedMessage(setting: Pick<Setting<unknown>, 'name' | 'allowed'>, value: string, problem = ''): string {
  return `${setting.name}=${quoted(value)} is not allowed: ${problem === '' ? '' : `${problem}; `}use ${setting.allowed}, or unset it`;
}

/**
 * What `setting` is set to in `env`: undefined when unset (or empty, unless empty has a meaning of
 * its own), else its value read by the rule; a value the rule refuses throws the setting's error.
 */
export function readSetting<T>(setting: Setting<T>, env: Env = process.env): T | undefined {
  const raw = env[setting.name];
  if (raw === undefined) return undefined;
  const value = setting.trim ? raw.trim() : raw;
  if (value === '' && !setting.emptyHasMeaning) return undefined;
  try {
    return setting.parse(value);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    const message = notAllowedMessage(setting, raw, error.message);
    throw setting.error ? setting.error(message) : new UsageError(message);
  }
}

/** True when MNIST_SPEEDRUN_DEBUG asks for stack traces; never throws (error handlers call it). */
export function debugRequested(env: Env = process.env): boolean {
  try {
    return readSetting(DEBUG, env) ?? false;
  } catch {
    return false;
  }
}

/** The setting a misspelt name most likely meant: a near spelling, else one whose name ends like it (THREADS: WASM_THREADS). */
function nearestSetting(name: string, known: readonly string[]): string {
  const near = closest(name, known.map((k) => k.toLowerCase()))?.toUpperCase();
  const tail = name.slice(PREFIX.length);
  const ending = known.find((k) => tail.length >= 4 && (k.endsWith(`_${tail}`) || tail.endsWith(`_${k.slice(PREFIX.length)}`)));
  const meant = near ?? ending;
  return meant === undefined ? '' : ` (did you mean ${meant}?)`;
}

/** A variable that looks like a setting but is none: a misspelt name would otherwise do nothing. */
function checkNoUnknownSetting(env: Env): void {
  const settings = SETTINGS.map((setting) => setting.name).filter((name) => name.startsWith(PREFIX));
  for (const name of Object.keys(env)) {
    if (!name.startsWith(PREFIX) || settings.includes(name) || name === CLI_CHILD || env[name] === undefined) continue;
    throw new UsageError(
      `${name}=${quoted(env[name]!)} is not allowed: mnist-speedrun has no setting of that name${nearestSetting(name, settings)}; ` +
        `use one of ${settings.join(', ')}, or unset it`,
    );
  }
}

/**
 * Checks every setting in `env` against its rule before any work starts; throws the first refusal
 * (one line naming the variable, its value and the allowed values).
 */
export function checkEnvironment(env: Env = process.env): void {
  checkNoUnknownSetting(env);
  for (const setting of SETTINGS) readSetting(setting, env);
  readModeSettings(env);
}

/**
 * The run mode MNIST_SPEEDRUN_MODE and its alias MNIST_SPEEDRUN_QUICK ask for together (full when
 * neither is set); MNIST_SPEEDRUN_QUICK=1 beside MNIST_SPEEDRUN_MODE naming another mode is refused.
 */
export function readModeSettings(env: Env = process.env): (typeof MODE_NAMES)[number] {
  const mode = readSetting(MODE, env);
  const quick = readSetting(QUICK, env);
  if (quick === true && mode !== undefined && mode !== 'quick') {
    throw new UsageError(`${QUICK.name}=1 (quick mode) contradicts ${MODE.name}=${mode}: unset one of them, or set ${MODE.name}=quick`);
  }
  return mode ?? (quick === true ? 'quick' : 'full');
}
