/**
 * MNIST, the way a careful user wants it: found on disk or downloaded and verified, parsed with
 * every header field checked, normalised exactly as torchvision does, split and subset.
 *
 * Two data paths read from here, as in the ladder: steps 01-03 read samples one by one
 * (lib/loader.ts); step 04 on keeps each split on the device (lib/device-data.ts), loaded from the
 * one-file preprocessed cache (lib/preprocessed-cache.ts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { userCacheDir, type Env } from './cache-dir';
import { defaultProgress, downloadVerified, DownloadError, type ProgressCallback } from './download';
import { decodeIdxImages, decodeIdxLabels, gunzipIdx, IdxFormatError, PIXELS_PER_IMAGE } from './idx';
import { makeRng, permutation } from './random';
import { DataError } from './errors';

export type { DownloadProgress } from './download';
export { PIXELS_PER_IMAGE } from './idx';

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

interface MnistFile {
  name: string;
  sha256: string;
  split: 'train' | 'test';
  kind: 'images' | 'labels';
  count: number;
}

/** The original LeCun archives, byte for byte; any other content is refused. */
export const MNIST_FILES: readonly MnistFile[] = [
  { name: 'train-images-idx3-ubyte.gz', sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609', split: 'train', kind: 'images', count: 60_000 },
  { name: 'train-labels-idx1-ubyte.gz', sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c', split: 'train', kind: 'labels', count: 60_000 },
  { name: 't10k-images-idx3-ubyte.gz', sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6', split: 'test', kind: 'images', count: 10_000 },
  { name: 't10k-labels-idx1-ubyte.gz', sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6', split: 'test', kind: 'labels', count: 10_000 },
];

/** Public copies of the original archives: the one torchvision uses, then TensorFlow's. */
export const MNIST_MIRRORS: readonly string[] = [
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
];

export interface LoadMnistOptions {
  /** A folder holding the four .gz files; trusted only after each file's SHA-256 matches. Default: env MNIST_DIR. */
  dir?: string;
  /** Where downloads go and are looked for. Default: `$XDG_CACHE_HOME/mnist-speedrun` or `~/.cache/mnist-speedrun`. */
  cacheDir?: string;
  mirrors?: readonly string[];
  /** Download progress; default: a text line on stderr when it is a terminal. */
  onProgress?: ProgressCallback;
  fetchImpl?: typeof fetch;
  /** Where MNIST_DIR and XDG_CACHE_HOME are read (default process.env); tests pass their own. */
  env?: Env;
  /** Give up on a mirror that sends nothing for this long (default 30 s). */
  stallTimeoutMs?: number;
}

/** The files are not where they should be and could not be fetched; the message says where to put them. */
export class MnistNotFoundError extends DataError {
  override name = 'MnistNotFoundError';
}

/** A file whose SHA-256 is not the original's: corrupt, truncated or another dataset. */
export class MnistChecksumError extends DataError {
  override name = 'MnistChecksumError';
  constructor(
    readonly filePath: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
    diagnosis: string,
  ) {
    super(
      `${filePath} fails its SHA-256 check (expected ${expectedSha256}, got ${actualSha256}): ${diagnosis}; ` +
        `replace it with the original from ${MNIST_MIRRORS[0]}${path.basename(filePath)}`,
    );
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function fileKey(filePath: string, stat: fs.Stats): string {
  return `${path.resolve(filePath)}\0${stat.size}\0${stat.mtimeMs}`;
}

/**
 * Process-wide memos, keyed by path, size and mtime so an edited file is read again: each file's
 * SHA-256 verdict, and the un-gzipped bytes of the last dataset read (one file set: un-gzipping
 * 47 MB is what costs, and notebooks and tests load MNIST many times in one process). Callers get
 * copies, never the memo's arrays.
 */
const sha256ByFile = new Map<string, string>();
const rawByFile = new Map<string, Uint8Array>();
const RAW_MEMO_FILES = 4;

function hashFile(filePath: string): { key: string; sha256: string; bytes?: Buffer } {
  const key = fileKey(filePath, fs.statSync(filePath));
  const known = sha256ByFile.get(key);
  if (known !== undefined) return { key, sha256: known };
  const bytes = fs.readFileSync(filePath);
  const sha256 = sha256Hex(bytes);
  sha256ByFile.set(key, sha256);
  return { key, sha256, bytes };
}

/** Why a file with the wrong hash is wrong, for the error message: its own format error, or none. */
function diagnose(bytes: Uint8Array, file: MnistFile): string {
  try {
    const raw = gunzipIdx(bytes, file.name);
    if (file.kind === 'images') decodeIdxImages(raw, file.name, { count: file.count });
    else decodeIdxLabels(raw, file.name, { count: file.count });
  } catch (error) {
    if (error instanceof IdxFormatError) return `it ${error.reason}`;
    throw error;
  }
  return `it is well-formed IDX data of the right shape but not the MNIST file (another dataset such as Fashion-MNIST, or altered bytes)`;
}

function verifyFile(filePath: string, file: MnistFile): string {
  const { key, sha256, bytes } = hashFile(filePath);
  if (sha256 !== file.sha256) {
    throw new MnistChecksumError(filePath, file.sha256, sha256, diagnose(bytes ?? fs.readFileSync(filePath), file));
  }
  return key;
}

function readVerifiedRaw(filePath: string, file: MnistFile): Uint8Array {
  const key = verifyFile(filePath, file);
  const known = rawByFile.get(key);
  if (known) return known;
  const raw = gunzipIdx(fs.readFileSync(filePath), file.name);
  rawByFile.set(key, raw);
  // Map keeps insertion order: the first keys are the oldest.
  for (const oldKey of rawByFile.keys()) {
    if (rawByFile.size <= RAW_MEMO_FILES) break;
    rawByFile.delete(oldKey);
  }
  return raw;
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

/** Reads and checks the four files of `dir`; every file is verified before any is parsed. */
function readMnistDir(dir: string, source: string): MnistArrays {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new MnistNotFoundError(
      `MNIST folder ${dir} (from ${source}) does not exist; create it and put ${fileListText()} there, or point ${source} elsewhere`,
    );
  }
  const missing = MNIST_FILES.filter((file) => !fs.existsSync(path.join(dir, file.name)));
  if (missing.length > 0) {
    throw new MnistNotFoundError(
      `MNIST folder ${dir} (from ${source}) lacks ${missing.map((file) => file.name).join(', ')}; ` +
        `${whereToGetText(missing.map((file) => file.name), MNIST_MIRRORS)} into it`,
    );
  }
  for (const file of MNIST_FILES) verifyFile(path.join(dir, file.name), file);
  const parts = new Map<string, Uint8Array>();
  for (const file of MNIST_FILES) {
    const raw = readVerifiedRaw(path.join(dir, file.name), file);
    // Verified bytes still go through the parser: it is what turns the header into counts.
    const body = file.kind === 'images'
      ? decodeIdxImages(raw, file.name, { count: file.count }).pixels
      : decodeIdxLabels(raw, file.name, { count: file.count });
    // new Uint8Array(view) copies; Buffer#slice would not, and the memo must stay private.
    parts.set(`${file.split}-${file.kind}`, new Uint8Array(body));
  }
  const split = (name: 'train' | 'test'): Split => {
    const images = parts.get(`${name}-images`)!;
    return { images, labels: parts.get(`${name}-labels`)!, count: images.length / PIXELS_PER_IMAGE };
  };
  return { train: split('train'), test: split('test') };
}

/** True when the cache holds a verified copy; a copy that fails its checksum is ours to delete. */
function isCachedCopyGood(filePath: string, file: MnistFile): boolean {
  if (!fs.existsSync(filePath)) return false;
  try {
    verifyFile(filePath, file);
    return true;
  } catch (error) {
    if (!(error instanceof MnistChecksumError)) throw error;
    fs.rmSync(filePath, { force: true });
    return false;
  }
}

/**
 * MNIST as raw arrays. Looks in `options.dir` (else env MNIST_DIR) and fails there with a clear
 * error if that folder is wrong; else in the cache folder, downloading any missing file from the
 * mirrors. Every file must match the original's SHA-256.
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<MnistArrays> {
  const env = options.env ?? process.env;
  const envDir = env.MNIST_DIR !== undefined && env.MNIST_DIR !== '' ? env.MNIST_DIR : undefined;
  if (options.dir !== undefined) return readMnistDir(options.dir, 'the dir option');
  if (envDir !== undefined) return readMnistDir(envDir, 'MNIST_DIR');

  const cacheDir = options.cacheDir ?? userCacheDir(env);
  const mirrors = options.mirrors ?? MNIST_MIRRORS;
  const missing = MNIST_FILES.filter((file) => !isCachedCopyGood(path.join(cacheDir, file.name), file));
  const onProgress = defaultProgress(options.onProgress);
  for (const file of missing) {
    try {
      await downloadVerified(file, {
        mirrors,
        destDir: cacheDir,
        onProgress,
        fetchImpl: options.fetchImpl,
        stallTimeoutMs: options.stallTimeoutMs,
      });
    } catch (error) {
      if (!(error instanceof DownloadError)) throw error;
      throw new MnistNotFoundError(
        `MNIST is not in ${cacheDir} and could not be downloaded (${error.failures.join('; ')}); ` +
          `put ${fileListText()} in ${cacheDir} or in a folder named by MNIST_DIR (or the dir option); ` +
          whereToGetText(MNIST_FILES.map((file) => file.name), mirrors),
      );
    }
  }
  return readMnistDir(cacheDir, 'the cache folder');
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

/** The sample order of one epoch: seeded permutation, or null for the file order. Shared by both data paths. */
export function epochOrder(count: number, shuffleSeed: number | null): Int32Array | null {
  return shuffleSeed === null ? null : permutation(count, makeRng(shuffleSeed));
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
