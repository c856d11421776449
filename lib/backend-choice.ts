/**
 * Automatic selection's memory: which candidate backend trained the net fastest on this machine.
 * Timing a few training steps per candidate takes seconds, so the result is kept in
 * `<cache>/backend-choice.json` under a key made of everything that could change the answer (the
 * machine, the candidates that could start, the packages' versions and the net) and reused while
 * that key matches. The file is a convenience: one that cannot be read or written never fails a
 * run, it costs a one-line note and a re-timing.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';
import { userCacheDir, type Env } from './cache-dir';
import { canonicalJson } from './fingerprint';

/** The file name under the cache folder. */
export const CHOICE_FILE_NAME = 'backend-choice.json';
/** Written into the file; a file of another version is ignored and replaced on the next write. */
export const CHOICE_FILE_VERSION = 1;

/** One candidate's training speed: ms per step, or why it could not be timed. */
export type CandidateTiming<Id extends string = string> =
  | { candidate: Id; msPerStep: number }
  | { candidate: Id; failed: string };

/** What a timing chose, as remembered. */
export interface RememberedChoice<Id extends string = string> {
  chosen: Id;
  /** Every candidate timed, in the order they were timed. */
  timings: Array<CandidateTiming<Id>>;
  /** ISO time of the timing. */
  timedAt: string;
}

/** Everything the answer depends on: another value of any of these means timing again. */
export interface ChoiceKeyParts {
  /** lib/machine.ts machineKey: CPU model, cores, memory, platform. */
  machine: string;
  /** The candidates that could start here, in any order. */
  candidates: readonly string[];
  /** Package name (and 'node') -> version. */
  versions: Readonly<Record<string, string>>;
  /** The net timed and its batch size, e.g. 'final@256'. */
  net: string;
}

/**
 * The fastest candidate that was timed, the first in `timings` order on a tie; null when none
 * could be timed.
 */
export function chooseFastest<Id extends string>(timings: ReadonlyArray<CandidateTiming<Id>>): Id | null {
  let best: { candidate: Id; msPerStep: number } | null = null;
  for (const timing of timings) {
    if (!('msPerStep' in timing) || !Number.isFinite(timing.msPerStep)) continue;
    if (best === null || timing.msPerStep < best.msPerStep) best = timing;
  }
  return best?.candidate ?? null;
}

/** SHA-256 (first 16 hex digits) of the parts, the candidates sorted: equal parts, equal key. */
export function choiceKey(parts: ChoiceKeyParts): string {
  const normal = { ...parts, candidates: [...parts.candidates].sort() };
  return createHash('sha256').update(canonicalJson(normal)).digest('hex').slice(0, 16);
}

/** `$XDG_CACHE_HOME/mnist-speedrun/backend-choice.json`, else under ~/.cache. */
export function choiceFile(env: Env = process.env): string {
  return join(userCacheDir(env), CHOICE_FILE_NAME);
}

interface ChoiceFile {
  version: number;
  /** Key -> choice; several keys live side by side (other nets, other installs). */
  choices: Record<string, RememberedChoice & { parts: ChoiceKeyParts }>;
}

/** What reading the file found: the choice for the key, nothing, or a note saying why not. */
export type ChoiceLookup =
  | { found: RememberedChoice }
  | { found: null; note?: string };

function isTiming(value: unknown): value is CandidateTiming {
  if (value === null || typeof value !== 'object') return false;
  const t = value as Record<string, unknown>;
  return typeof t.candidate === 'string' && (typeof t.msPerStep === 'number' || typeof t.failed === 'string');
}

function isChoice(value: unknown): value is RememberedChoice {
  if (value === null || typeof value !== 'object') return false;
  const c = value as Record<string, unknown>;
  return typeof c.chosen === 'string' && typeof c.timedAt === 'string' && Array.isArray(c.timings) && c.timings.every(isTiming);
}

/** The file's choices, or a note when it is unreadable or not ours; an absent file is empty. */
function readChoiceFile(file: string): { choices: ChoiceFile['choices']; note?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { choices: {} };
    return { choices: {}, note: `${file} cannot be read (${code ?? (error as Error).message}), so the backends are timed again` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { choices: {}, note: `${file} is not valid JSON, so the backends are timed again and it is rewritten` };
  }
  const data = parsed as Partial<ChoiceFile> | null;
  if (data === null || typeof data !== 'object' || data.version !== CHOICE_FILE_VERSION || data.choices === null || typeof data.choices !== 'object') {
    return { choices: {}, note: `${file} is not a backend choice of this version, so the backends are timed again and it is rewritten` };
  }
  return { choices: data.choices };
}

/** The remembered choice under `key`, if the file holds a well-formed one. Never throws. */
export function readChoice(file: string, key: string): ChoiceLookup {
  const { choices, note } = readChoiceFile(file);
  if (note !== undefined) return { found: null, note };
  const entry = choices[key];
  if (entry === undefined) return { found: null };
  if (!isChoice(entry)) return { found: null, note: `${file} holds a malformed entry for this machine, so the backends are timed again` };
  return { found: { chosen: entry.chosen, timings: entry.timings, timedAt: entry.timedAt } };
}

/**
 * Adds (or replaces) the choice under `key`, keeping the other keys' entries; a corrupt file or
 * one of another version is replaced. Returns null when written, else a one-line note (the run
 * goes on: the choice is simply not remembered). Never throws.
 */
export async function writeChoice(file: string, key: string, parts: ChoiceKeyParts, choice: RememberedChoice): Promise<string | null> {
  const { choices } = readChoiceFile(file);
  const next: ChoiceFile = { version: CHOICE_FILE_VERSION, choices: { ...choices, [key]: { ...choice, parts } } };
  try {
    await writeFileAtomic(file, JSON.stringify(next, null, 2) + '\n');
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `the backend choice was not remembered: ${file} cannot be written (${code ?? (error as Error).message}); set XDG_CACHE_HOME to a writable folder`;
  }
}

/** '45 ms/step' (one decimal under 10 ms). */
export function formatMsPerStep(ms: number): string {
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms/step`;
}

/** 'wasm 45 ms/step, webgpu 120 ms/step, tensorflow-cpu failed (…)', fastest first, failures last. */
export function formatTimings(timings: ReadonlyArray<CandidateTiming>): string {
  const timed = timings.filter((t): t is { candidate: string; msPerStep: number } => 'msPerStep' in t).sort((a, b) => a.msPerStep - b.msPerStep);
  const failed = timings.filter((t): t is { candidate: string; failed: string } => 'failed' in t);
  return [...timed.map((t) => `${t.candidate} ${formatMsPerStep(t.msPerStep)}`), ...failed.map((t) => `${t.candidate} failed (${t.failed})`)].join(', ');
}
