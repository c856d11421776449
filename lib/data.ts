/**
 * MNIST, the way a careful user wants it: found on disk in whatever common form the user has it
 * (lib/mnist-files.ts) or downloaded, verified, parsed with every header field checked, normalised
 * exactly as torchvision does, split and subset. No file anyone put anywhere is deleted or
 * overwritten; stale temporary files of dead writers in the cache folder are.
 *
 * Two data paths read from here, as in the ladder: steps 01-03 read samples one by one
 * (lib/loader.ts); step 04 on keeps each split on the device (lib/device-data.ts), loaded from the
 * one-file preprocessed cache (lib/preprocessed-cache.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { userCacheDir, type Env } from './cache-dir';
import { MIRRORS, MNIST_DIR, readSetting } from './environment';
import { defaultProgress, downloadVerified, DownloadError, removeStaleTempFilesIn, type ProgressCallback } from './download';
import { decodeIdxImages, decodeIdxLabels, PIXELS_PER_IMAGE } from './idx';
import {
  foldersFor,
  isMnistFileName,
  MnistChecksumError,
  MNIST_FILES,
  MNIST_MIRRORS,
  MnistNotFoundError,
  presentPaths,
  readVerifiedIdx,
  type MnistFile,
} from './mnist-files';
import { makeRng, permutation } from './random';

export type { DownloadProgress } from './download';
export { PIXELS_PER_IMAGE } from './idx';
export { MnistChecksumError, MNIST_FILES, MNIST_MIRRORS, MnistNotFoundError, type MnistFile } from './mnist-files';

// ---------------------------------------------------------------- the four files

/** One split of MNIST as the files hold it: raw uint8 pixels (count * 784) and labels 0-9. */
export interface Split {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface MnistArrays {
  train: Split;
  test: Split;
}

export interface LoadMnistOptions {
  /**
   * A folder holding the four files, as the .gz archives or un-gzipped (or torchvision's MNIST/raw
   * under it); trusted only after the SHA-256 of each file's data matches. Default: env MNIST_DIR.
   */
  dir?: string;
  /** How messages name where `dir` came from (default '--data', the CLI's option). */
  dirLabel?: string;
  /** Where downloads go and are looked for. Default: `$XDG_CACHE_HOME/mnist-speedrun` or `~/.cache/mnist-speedrun`. */
  cacheDir?: string;
  /** Base URLs to download from. Default: env MNIST_SPEEDRUN_MIRRORS (space-separated; empty: no download), else MNIST_MIRRORS. */
  mirrors?: readonly string[];
  /** Download progress; default: a text line on stderr when it is a terminal. */
  onProgress?: ProgressCallback;
  fetchImpl?: typeof fetch;
  /** Where MNIST_DIR, MNIST_SPEEDRUN_MIRRORS and XDG_CACHE_HOME are read (default process.env); tests pass their own. */
  env?: Env;
  /** Give up on a mirror that sends nothing for this long (default 30 s). */
  stallTimeoutMs?: number;
  /** Told when the cache folder cannot be written (default: a line on stderr). */
  onWarning?: (message: string) => void;
}

/** Where MNIST was found: one verified file per entry of MNIST_FILES, in that order. */
export interface MnistLocation {
  /** The folder the files are in (torchvision's MNIST/raw when pointed at its parent). */
  folder: string;
  /** Where the folder came from: '--data' (or the dirLabel option), 'MNIST_DIR' or 'the cache folder'. */
  source: string;
  paths: readonly string[];
}

function fileListText(): string {
  return MNIST_FILES.map((file) => file.name).join(', ');
}

/** Every URL to fetch by hand, on the first mirror, with the others named as alternatives. */
function whereToGetText(names: readonly string[], mirrors: readonly string[]): string {
  const [first, ...others] = mirrors.length > 0 ? mirrors : MNIST_MIRRORS;
  const alternatives = others.length > 0 ? ` (or the same names under ${others.join(' or ')})` : '';
  return `fetch ${names.map((name) => first + name).join(', ')}${alternatives}`;
}

const FORMS_TEXT = 'gzipped or un-gzipped';

/** The folder of `dir` that holds MNIST files: itself, else torchvision's raw/ or MNIST/raw/ under it. */
function mnistFolderIn(dir: string): string {
  return foldersFor(dir).find((folder) => MNIST_FILES.some((file) => presentPaths(folder, file).length > 0)) ?? dir;
}

/**
 * Throws a MnistNotFoundError (exit 3) unless `dir` is an existing folder, saying what it is
 * instead and naming `source` ('--data'); the CLI calls it before it picks a backend.
 */
export function checkIsFolder(dir: string, source: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new MnistNotFoundError(
      `MNIST folder ${dir} (from ${source}) does not exist; create it and put ${fileListText()} there, or point ${source} elsewhere`,
    );
  }
  if (stat.isDirectory()) return;
  const parent = path.dirname(dir);
  const naming = source.startsWith('-') ? `${source} ${parent}` : `${source}=${parent}`;
  const hint = isMnistFileName(path.basename(dir)) ? `; to use the folder it is in: ${naming}` : '';
  throw new MnistNotFoundError(
    `${source} ${dir} is a file; a folder is expected, holding the four MNIST files ${fileListText()} (${FORMS_TEXT}) ` +
      `or torchvision's MNIST/raw${hint}`,
  );
}

/**
 * The verified data of one file in `folder`: the first of its forms present that passes; when none
 * passes, the first one's error. Null when no form of it is there.
 */
function verifiedIn(folder: string, file: MnistFile, fix?: string): { path: string; raw: Uint8Array } | null {
  const candidates = presentPaths(folder, file);
  let firstError: unknown = null;
  for (const candidate of candidates) {
    try {
      return { path: candidate, raw: readVerifiedIdx(candidate, file, fix) };
    } catch (error) {
      if (!(error instanceof MnistChecksumError)) throw error;
      firstError ??= error;
    }
  }
  if (firstError !== null) throw firstError;
  return null;
}

interface Found {
  location: MnistLocation;
  raws: Uint8Array[];
}

/** All four files verified in `folder`, or an error naming the folder, the missing files and where to get them. */
function findAll(folder: string, source: string, fix?: (file: MnistFile) => string): Found {
  const found = MNIST_FILES.map((file) => verifiedIn(folder, file, fix?.(file)));
  const missing = MNIST_FILES.filter((_, i) => found[i] === null).map((file) => file.name);
  if (missing.length > 0) {
    throw new MnistNotFoundError(
      `MNIST folder ${folder} (from ${source}) lacks ${missing.join(', ')}; ` +
        `${whereToGetText(missing, MNIST_MIRRORS)} into it (${FORMS_TEXT})`,
    );
  }
  const present = found as Array<{ path: string; raw: Uint8Array }>;
  return { location: { folder, source, paths: present.map((f) => f.path) }, raws: present.map((f) => f.raw) };
}

/** Reads a folder named by the user (--data or MNIST_DIR): found there or refused, never downloaded into. */
function findInUserFolder(dir: string, source: string): Found {
  checkIsFolder(dir, source);
  return findAll(mnistFolderIn(dir), source);
}

/** Mirrors from env MNIST_SPEEDRUN_MIRRORS (lib/environment.ts): base URLs separated by spaces or commas; set but empty: none. */
export function mirrorsFromEnv(env: Env): readonly string[] | undefined {
  return readSetting(MIRRORS, env);
}

/**
 * The cache folder: files found there are checked (a bad one is refused with its path and left in
 * place: the user may have put it there), missing ones are downloaded from the mirrors.
 */
async function findInCache(cacheDir: string, options: LoadMnistOptions, env: Env): Promise<Found> {
  const mirrors = options.mirrors ?? mirrorsFromEnv(env) ?? MNIST_MIRRORS;
  const fix = (file: MnistFile): string =>
    `replace it with the original from ${MNIST_MIRRORS[0]}${file.name}, or remove it and it is downloaded again`;
  const missing = MNIST_FILES.filter((file) => verifiedIn(cacheDir, file, fix(file)) === null);
  const putText = `put ${fileListText()} in ${cacheDir} (${FORMS_TEXT}) or in a folder named by MNIST_DIR or --data`;
  if (missing.length > 0 && mirrors.length === 0) {
    throw new MnistNotFoundError(
      `MNIST is not in ${cacheDir} and downloads are off (MNIST_SPEEDRUN_MIRRORS is empty); ${putText}; ` +
        whereToGetText(missing.map((file) => file.name), MNIST_MIRRORS),
    );
  }
  const onProgress = defaultProgress(options.onProgress);
  // the cache is optional: one that cannot be written costs a warning, and the files are
  // downloaded into a folder of this run's own, removed when the process ends
  const destDir = missing.length === 0 ? cacheDir : writableOrTemporary(cacheDir, options.onWarning ?? ((m) => console.warn(m)));
  for (const file of destDir === cacheDir ? missing : MNIST_FILES) {
    try {
      await downloadVerified(file, {
        mirrors,
        destDir,
        onProgress,
        fetchImpl: options.fetchImpl,
        stallTimeoutMs: options.stallTimeoutMs,
      });
    } catch (error) {
      if (!(error instanceof DownloadError)) throw error;
      throw new MnistNotFoundError(
        `MNIST is not in ${cacheDir} and could not be downloaded (${error.failures.join('; ')}); ${putText}; ` +
          whereToGetText(MNIST_FILES.map((f) => f.name), mirrors),
      );
    }
  }
  return findAll(destDir, destDir === cacheDir ? 'the cache folder' : 'the download folder', fix);
}

/** `dir` when a file can be created in it; else a new temporary folder, after one warning naming `dir`. */
function writableOrTemporary(dir: string, warn: (message: string) => void): string {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `.write-probe-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
    return dir;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-speedrun-download-'));
    process.once('exit', () => fs.rmSync(temporary, { recursive: true, force: true }));
    warn(`warning: cannot write the MNIST cache ${dir} (${reason}); downloading into ${temporary} for this run only`);
    return temporary;
  }
}

async function find(options: LoadMnistOptions): Promise<Found> {
  const env = options.env ?? process.env;
  const cacheDir = options.cacheDir ?? userCacheDir(env);
  // A killed download or cache write leaves a temporary file that no later write would clean.
  removeStaleTempFilesIn(cacheDir);
  if (options.dir !== undefined) return findInUserFolder(options.dir, options.dirLabel ?? '--data');
  // MNIST_DIR's rule (lib/environment.ts) refuses a path that is not a folder, with exit 3 like --data
  const envDir = readSetting(MNIST_DIR, env);
  if (envDir !== undefined) return findAll(mnistFolderIn(envDir), 'MNIST_DIR');
  return findInCache(cacheDir, options, env);
}

/**
 * Where MNIST is, every file verified: `options.dir` (else env MNIST_DIR), failing there with a
 * clear error if that folder is wrong; else the cache folder, downloading any missing file. Each
 * file may be the .gz archive or un-gzipped IDX (also with Kaggle's dot names); the SHA-256 of its
 * data must be the original's. A folder's torchvision layout (MNIST/raw) is found too. No file
 * anyone put anywhere is deleted or overwritten.
 */
export async function locateMnist(options: LoadMnistOptions = {}): Promise<MnistLocation> {
  return (await find(options)).location;
}

/** MNIST as raw arrays, from where locateMnist finds it. */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<MnistArrays> {
  const { raws } = await find(options);
  const parts = new Map<string, Uint8Array>();
  MNIST_FILES.forEach((file, i) => {
    // Verified bytes still go through the parser: it is what turns the header into counts.
    const body = file.kind === 'images'
      ? decodeIdxImages(raws[i]!, file.name, { count: file.count }).pixels
      : decodeIdxLabels(raws[i]!, file.name, { count: file.count });
    // new Uint8Array(view) copies; the verified data are memoised and must stay private.
    parts.set(`${file.split}-${file.kind}`, new Uint8Array(body));
  });
  const split = (name: 'train' | 'test'): Split => {
    const images = parts.get(`${name}-images`)!;
    return { images, labels: parts.get(`${name}-labels`)!, count: images.length / PIXELS_PER_IMAGE };
  };
  return { train: split('train'), test: split('test') };
}

// ---------------------------------------------------------------- normalising and subsets

export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/**
 * One pixel as torchvision's ToTensor + Normalize computes it, in float32 at every step
 * (x / 255, then - mean, then / std), so values match PyTorch bit for bit.
 */
export function normalisePixel(value: number): number {
  const scaled = Math.fround(value / 255);
  return Math.fround(Math.fround(scaled - Math.fround(MNIST_MEAN)) / Math.fround(MNIST_STD));
}

const NORMALISED_BY_BYTE = Float32Array.from({ length: 256 }, (_, value) => normalisePixel(value));

/** (x/255 - 0.1307)/0.3081 for every pixel; same layout as the input (N*784 = NHWC with C=1). */
export function normalise(images: Uint8Array): Float32Array {
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) out[i] = NORMALISED_BY_BYTE[images[i]!]!;
  return out;
}

function checkCount(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${value}`);
  }
}

/** The samples at `indices`, copied, in that order. */
export function selectSamples(split: Split, indices: ArrayLike<number>): Split {
  const images = new Uint8Array(indices.length * PIXELS_PER_IMAGE);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const from = indices[i]!;
    images.set(split.images.subarray(from * PIXELS_PER_IMAGE, (from + 1) * PIXELS_PER_IMAGE), i * PIXELS_PER_IMAGE);
    labels[i] = split.labels[from]!;
  }
  return { images, labels, count: indices.length };
}

function firstSamples(split: Split, count: number): Split {
  return {
    images: new Uint8Array(split.images.subarray(0, count * PIXELS_PER_IMAGE)),
    labels: new Uint8Array(split.labels.subarray(0, count)),
    count,
  };
}

/** The first `trainCount` training and `testCount` test samples (copies), for short runs and tests. */
export function takeSubset(arrays: MnistArrays, trainCount: number, testCount: number): MnistArrays {
  checkCount('trainCount', trainCount, arrays.train.count);
  checkCount('testCount', testCount, arrays.test.count);
  return { train: firstSamples(arrays.train, trainCount), test: firstSamples(arrays.test, testCount) };
}

/**
 * Splits `count` samples, drawn by a seeded permutation, off `split` as a validation set; both
 * parts keep the original order of their samples. The same seed always holds out the same images.
 */
export function holdOutValidation(split: Split, count: number, seed: number): { train: Split; validation: Split } {
  if (!Number.isInteger(count) || count < 1 || count >= split.count) {
    throw new RangeError(`validation count must be an integer from 1 to ${split.count - 1}, got ${count}`);
  }
  const order = permutation(split.count, makeRng(seed));
  const validationIndices = order.slice(0, count).sort();
  const trainIndices = order.slice(count).sort();
  return { train: selectSamples(split, trainIndices), validation: selectSamples(split, validationIndices) };
}

/** Throws unless `batchSize` is a positive integer. */
export function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
}

/** One batch; the consumer disposes both tensors. */
export interface Batch {
  x: tf.Tensor4D; // [B, 28, 28, 1]
  y: tf.Tensor1D; // [B] int32
}
