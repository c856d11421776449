/**
 * Fetching a file from a list of mirrors so that the destination only ever holds a whole,
 * verified file: bytes stream into a temporary file in the destination folder, are hashed on the
 * way, and the temporary file is renamed to the final name only when the SHA-256 matches, never over
 * a file already there. Any failure (HTTP error, an HTML error page, a cut connection, a stall, a
 * wrong checksum) removes the temporary file and moves on to the next mirror.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from './errors';

export interface DownloadProgress {
  file: string;
  url: string;
  receivedBytes: number;
  /** From Content-Length; null when the server does not say. */
  totalBytes: number | null;
  done: boolean;
}

export type ProgressCallback = (progress: DownloadProgress) => void;

export interface DownloadTarget {
  /** File name, appended to each mirror's base URL and used in the destination folder. */
  name: string;
  /** Lower-case hex SHA-256 of the whole file. */
  sha256: string;
}

export interface DownloadOptions {
  /** Base URLs; the file is fetched from `mirror + name`, mirrors in order. */
  mirrors: readonly string[];
  destDir: string;
  onProgress?: ProgressCallback;
  fetchImpl?: typeof fetch;
  /** Give up on a mirror that sends nothing for this long (default 30 s). */
  stallTimeoutMs?: number;
}

/** Every mirror failed for this file; `failures` has one line per mirror. */
export class DownloadError extends DataError {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly failures: readonly string[],
  ) {
    super(message);
  }
}

/** One mirror's failure, with a reason short enough for a one-line summary. */
class MirrorFailure extends Error {
  override name = 'MirrorFailure';
}

const TEMP_SUFFIX = '.download';
const DEFAULT_STALL_TIMEOUT_MS = 30_000;

/** `name.<pid>.<random>.download`: the pid lets a later run tell a dead writer's leftovers from a live one's. */
export function tempPathFor(destDir: string, name: string, suffix: string = TEMP_SUFFIX): string {
  const nonce = Math.random().toString(36).slice(2, 10).padEnd(8, '0');
  return path.join(destDir, `${name}.${process.pid}.${nonce}${suffix}`);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A live writer touches its temporary file every few seconds (a download gives up after a 30 s
 * stall, a cache write takes seconds), so one untouched for an hour is a dead writer's even when
 * its pid has since been reused by another process.
 */
export const STALE_TEMP_AGE_MS = 60 * 60 * 1000;

/** The suffixes of this project's temporary files: downloads, and the preprocessed cache's writes. */
export const TEMP_SUFFIXES: readonly string[] = [TEMP_SUFFIX, '.tmp'];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when the writer of a temporary file is gone: its process is dead, or the file is old. */
function isStale(filePath: string, pid: number, nowMs: number): boolean {
  if (!isProcessAlive(pid)) return true;
  try {
    return nowMs - fs.statSync(filePath).mtimeMs > STALE_TEMP_AGE_MS;
  } catch {
    return false;
  }
}

/**
 * Removes the entries of `destDir` matching `pattern` (group 1: the writer's pid) whose writer is
 * gone. Cleaning is best effort: one that cannot be removed (a read-only folder) is left in place.
 */
function removeStale(destDir: string, pattern: RegExp): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(destDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const nowMs = Date.now();
  const removed: string[] = [];
  for (const entry of entries) {
    const match = entry.isFile() ? pattern.exec(entry.name) : null;
    const filePath = path.join(destDir, entry.name);
    if (!match || !isStale(filePath, Number(match[1]), nowMs)) continue;
    try {
      fs.rmSync(filePath, { force: true });
    } catch {
      continue;
    }
    removed.push(entry.name);
  }
  return removed;
}

/**
 * Removes temporary files `name.<pid>.<nonce><suffix>` left in `destDir` by writers that no longer
 * run (a killed download or cache write, or one untouched for STALE_TEMP_AGE_MS); a live
 * process's file is kept. Returns what it removed.
 */
export function removeStaleTempFiles(destDir: string, name: string, suffix: string = TEMP_SUFFIX): string[] {
  return removeStale(destDir, new RegExp(`^${escapeRegExp(name)}\\.(\\d+)\\.[a-z0-9]+${escapeRegExp(suffix)}$`));
}

/**
 * Removes every temporary file of this project's writers (`<name>.<pid>.<8 letters or digits>`
 * ending in one of `suffixes`) left in `destDir` by a writer that is gone, whatever the name: a
 * killed cache write leaves 220 MB beside a valid file that no later write would clean. Any other
 * file is left alone. Returns what it removed.
 */
export function removeStaleTempFilesIn(destDir: string, suffixes: readonly string[] = TEMP_SUFFIXES): string[] {
  const ends = suffixes.map(escapeRegExp).join('|');
  return removeStale(destDir, new RegExp(`^.+\\.(\\d+)\\.[a-z0-9]{8}(?:${ends})$`));
}

function looksLikeHtml(firstBytes: Uint8Array): boolean {
  // Error pages start with a tag ('<!DOCTYPE', '<html', '<?xml'); the archives start with gzip's 1f 8b.
  return Buffer.from(firstBytes.subarray(0, 64)).toString('latin1').trimStart().startsWith('<');
}

function describe(error: unknown): string {
  if (error instanceof MirrorFailure) return error.message;
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** Streams one URL into `tempPath`, hashing as it goes; returns the hex SHA-256. Throws MirrorFailure. */
async function fetchToFile(url: string, target: DownloadTarget, tempPath: string, options: DownloadOptions): Promise<string> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const abort = new AbortController();
  let stallTimer = setTimeout(() => abort.abort(), stallTimeoutMs);
  const resetStallTimer = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => abort.abort(), stallTimeoutMs);
  };
  const out = fs.openSync(tempPath, 'wx');
  let receivedBytes = 0;
  try {
    const response = await fetchImpl(url, { signal: abort.signal, redirect: 'follow' });
    if (!response.ok) throw new MirrorFailure(`HTTP ${response.status} ${response.statusText}`.trim());
    const contentType = response.headers.get('content-type') ?? '';
    if (contentType.includes('text/html')) throw new MirrorFailure(`served an HTML page (${contentType}), not the file`);
    if (!response.body) throw new MirrorFailure('empty response');
    const lengthHeader = response.headers.get('content-length');
    const totalBytes = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
    const hash = createHash('sha256');
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      resetStallTimer();
      if (receivedBytes === 0 && looksLikeHtml(value)) throw new MirrorFailure('served an HTML page, not the file');
      hash.update(value);
      fs.writeSync(out, value);
      receivedBytes += value.length;
      options.onProgress?.({ file: target.name, url, receivedBytes, totalBytes, done: false });
    }
    if (totalBytes !== null && receivedBytes !== totalBytes) {
      throw new MirrorFailure(`truncated body: got ${receivedBytes} of ${totalBytes} bytes`);
    }
    fs.fsyncSync(out);
    options.onProgress?.({ file: target.name, url, receivedBytes, totalBytes, done: true });
    return hash.digest('hex');
  } catch (error) {
    if (abort.signal.aborted) throw new MirrorFailure(`stalled: nothing received for ${stallTimeoutMs} ms`);
    if (error instanceof MirrorFailure) throw error;
    const what = receivedBytes > 0 ? `connection lost after ${receivedBytes} bytes` : 'connection failed';
    throw new MirrorFailure(`${what} (${describe(error)})`);
  } finally {
    clearTimeout(stallTimer);
    abort.abort(); // frees the connection when we stopped reading early (an HTML page, a short body)
    fs.closeSync(out);
  }
}

/**
 * Downloads `target` into `options.destDir` from the first mirror that delivers the right bytes and
 * returns the file's path. The final name appears only after the checksum matched (rename is
 * atomic within a folder), so a crash or a Ctrl-C never leaves a partial file a later run would
 * trust. Throws DownloadError listing each mirror's failure.
 */
export async function downloadVerified(target: DownloadTarget, options: DownloadOptions): Promise<string> {
  fs.mkdirSync(options.destDir, { recursive: true });
  removeStaleTempFiles(options.destDir, target.name);
  const finalPath = path.join(options.destDir, target.name);
  const failures: string[] = [];
  for (const mirror of options.mirrors) {
    const url = mirror + target.name;
    const tempPath = tempPathFor(options.destDir, target.name);
    try {
      const actual = await fetchToFile(url, target, tempPath, options);
      if (actual !== target.sha256) {
        throw new MirrorFailure(`checksum mismatch: SHA-256 ${actual}, expected ${target.sha256}`);
      }
      // Never over a file someone put there meanwhile: it is theirs, and the caller checks what it holds.
      if (!fs.existsSync(finalPath)) fs.renameSync(tempPath, finalPath);
      return finalPath;
    } catch (error) {
      failures.push(`${url}: ${describe(error)}`);
    } finally {
      fs.rmSync(tempPath, { force: true });
    }
  }
  throw new DownloadError(
    `could not download ${target.name} from any mirror (${failures.join('; ')})`,
    failures,
  );
}

function formatMegabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * A one-line progress display for a terminal: redraws in place with \r and ends the line when a
 * file is done. Writes to `stream` (stderr by default, so stdout stays clean for --json output).
 */
export function textProgress(stream: { write(text: string): unknown } = process.stderr): ProgressCallback {
  let lastDrawMs = 0;
  return (progress) => {
    const nowMs = Date.now();
    if (!progress.done && nowMs - lastDrawMs < 100) return;
    lastDrawMs = nowMs;
    const host = new URL(progress.url).host;
    const total = progress.totalBytes === null ? '?' : formatMegabytes(progress.totalBytes);
    const percent = progress.totalBytes ? ` ${Math.floor((100 * progress.receivedBytes) / progress.totalBytes)}%` : '';
    const line = `downloading ${progress.file} from ${host}: ${formatMegabytes(progress.receivedBytes)}/${total} MB${percent}`;
    stream.write(`\r${line}\x1b[K${progress.done ? '\n' : ''}`);
  };
}

/** The caller's callback, else a text display when stderr is a terminal, else silence. */
export function defaultProgress(onProgress: ProgressCallback | undefined): ProgressCallback | undefined {
  if (onProgress) return onProgress;
  return process.stderr.isTTY ? textProgress(process.stderr) : undefined;
}
