/**
 * Step 04's "saved once, loaded once": the whole normalised dataset in ONE binary file, written
 * atomically, read back in one read, and trusted only when its header, its source digest and its
 * payload checksum all match; anything else is rebuilt.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { userCacheDir } from './cache-dir';
import { normalise, type Split } from './data';
import { removeStaleTempFiles, tempPathFor } from './download';
import { PIXELS_PER_IMAGE } from './idx';

// Layout (little-endian), version 2 (version 1 had the same layout, with the training split in
// file order; version 2 stores it in the saved, shuffled-once order of lib/device-data.ts):
//   0  8 bytes  magic "MNISTF32"
//   8  uint32   version
//  12  uint32   split count k
//  16  uint32   pixels per image (784)
//  20  uint32   header bytes (96 + 4k)
//  24  32 bytes SHA-256 of the source splits (raw pixels and labels): a cache made from other data is stale
//  56  32 bytes SHA-256 of the payload
//  88  uint64   payload bytes
//  96  uint32 x k  sample count of each split
//  then, per split: float32 normalised images [count, 28, 28, 1], int32 labels [count]
// The header is a multiple of 4 bytes, so the payload is read as typed-array views without a copy.

const CACHE_MAGIC = 'MNISTF32';
const CACHE_VERSION = 2;
const CACHE_FIXED_HEADER_BYTES = 96;

/** What happened to the preprocessed cache file on a load. */
export type CacheOutcome = 'disabled' | 'hit' | 'created' | 'rebuilt' | 'unwritable';

/** Told, once, that the cache file could not be written: training goes on from memory. */
export type CacheWarning = (message: string) => void;

const warnOnStderr: CacheWarning = (message) => console.warn(message);

/** Why a cache file was not trusted; caught by the loader, which rebuilds the file. */
export class PreprocessedCacheError extends Error {
  override name = 'PreprocessedCacheError';
}

export interface PreprocessedSplit {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

/** The default file for the preprocessed dataset, in the user cache folder. */
export function preprocessedCacheFile(cacheDir: string = userCacheDir()): string {
  return path.join(cacheDir, `mnist-normalised-v${CACHE_VERSION}.bin`);
}

/** Identifies the raw data a cache file was built from. */
export function sourceDigest(splits: readonly Split[]): Buffer {
  const hash = createHash('sha256');
  for (const split of splits) {
    const count = Buffer.alloc(4);
    count.writeUInt32LE(split.count);
    hash.update(count).update(split.images).update(split.labels);
  }
  return hash.digest();
}

function bytesOf(array: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function preprocess(split: Split): PreprocessedSplit {
  return { images: normalise(split.images), labels: Int32Array.from(split.labels), count: split.count };
}

function headerBytes(splitCount: number): number {
  return CACHE_FIXED_HEADER_BYTES + 4 * splitCount;
}

/** Writes the preprocessed splits to `file` atomically (temp file in the same folder, then rename). */
export function writePreprocessedCache(file: string, sources: readonly Split[], splits: readonly PreprocessedSplit[]): void {
  if (os.endianness() !== 'LE') throw new PreprocessedCacheError('the preprocessed cache format is little-endian only');
  const parts = splits.flatMap((split) => [bytesOf(split.images), bytesOf(split.labels)]);
  const payloadHash = createHash('sha256');
  let payloadBytes = 0;
  for (const part of parts) {
    payloadHash.update(part);
    payloadBytes += part.length;
  }
  const header = Buffer.alloc(headerBytes(splits.length));
  header.write(CACHE_MAGIC, 0, 'latin1');
  header.writeUInt32LE(CACHE_VERSION, 8);
  header.writeUInt32LE(splits.length, 12);
  header.writeUInt32LE(PIXELS_PER_IMAGE, 16);
  header.writeUInt32LE(header.length, 20);
  sourceDigest(sources).copy(header, 24);
  payloadHash.digest().copy(header, 56);
  header.writeBigUInt64LE(BigInt(payloadBytes), 88);
  splits.forEach((split, i) => header.writeUInt32LE(split.count, CACHE_FIXED_HEADER_BYTES + 4 * i));

  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  // A killed writer's leftover would otherwise sit there forever: it is 220 MB.
  removeStaleTempFiles(dir, path.basename(file), '.tmp');
  const tempPath = tempPathFor(dir, path.basename(file), '.tmp');
  try {
    const fd = fs.openSync(tempPath, 'wx');
    try {
      fs.writeSync(fd, header);
      for (const part of parts) fs.writeSync(fd, part);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tempPath, file);
  } finally {
    fs.rmSync(tempPath, { force: true });
  }
}

/**
 * Reads `file` in one read and returns views of its payload, or throws PreprocessedCacheError when
 * anything (magic, version, counts, source data, payload checksum, length) does not match `sources`.
 */
export function readPreprocessedCache(file: string, sources: readonly Split[]): PreprocessedSplit[] {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new PreprocessedCacheError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const reject = (why: string): never => {
    throw new PreprocessedCacheError(`${file} ${why}`);
  };
  const headerLength = headerBytes(sources.length);
  if (bytes.length < headerLength) reject(`is too short (${bytes.length} bytes)`);
  if (bytes.toString('latin1', 0, 8) !== CACHE_MAGIC) reject('has the wrong magic');
  if (bytes.readUInt32LE(8) !== CACHE_VERSION) reject(`has version ${bytes.readUInt32LE(8)}, expected ${CACHE_VERSION}`);
  if (bytes.readUInt32LE(12) !== sources.length) reject(`holds ${bytes.readUInt32LE(12)} splits, expected ${sources.length}`);
  if (bytes.readUInt32LE(16) !== PIXELS_PER_IMAGE) reject('has the wrong image size');
  if (bytes.readUInt32LE(20) !== headerLength) reject('has the wrong header length');
  sources.forEach((source, i) => {
    const count = bytes.readUInt32LE(CACHE_FIXED_HEADER_BYTES + 4 * i);
    if (count !== source.count) reject(`split ${i} holds ${count} samples, expected ${source.count}`);
  });
  if (!bytes.subarray(24, 56).equals(sourceDigest(sources))) reject('was made from other data');
  const expectedPayload = sources.reduce((sum, source) => sum + source.count * (PIXELS_PER_IMAGE + 1) * 4, 0);
  const payloadBytes = Number(bytes.readBigUInt64LE(88));
  if (payloadBytes !== expectedPayload || bytes.length - headerLength !== payloadBytes) {
    reject(`has ${bytes.length - headerLength} payload bytes, expected ${expectedPayload}`);
  }
  const payload = bytes.subarray(headerLength);
  if (!createHash('sha256').update(payload).digest().equals(bytes.subarray(56, 88))) reject('fails its payload checksum');

  // readFileSync of a large file gets its own aligned buffer; a small one may sit in a shared pool at any offset.
  const aligned = payload.byteOffset % 4 === 0 ? payload : Uint8Array.prototype.slice.call(payload);
  let offset = aligned.byteOffset;
  return sources.map((source) => {
    const images = new Float32Array(aligned.buffer, offset, source.count * PIXELS_PER_IMAGE);
    offset += images.byteLength;
    const labels = new Int32Array(aligned.buffer, offset, source.count);
    offset += labels.byteLength;
    return { images, labels, count: source.count };
  });
}

/** A killed writer's 220 MB temp file would otherwise sit beside the cache forever. */
function removeDeadWritersTempFiles(file: string): void {
  try {
    removeStaleTempFiles(path.dirname(file), path.basename(file), '.tmp');
  } catch {
    // a folder we cannot clean is one we cannot write either: the write reports it
  }
}

/** Cache files this process could not write: not tried again (a full disk would cost a 220 MB write per run), nor warned about again. */
const unwritableFiles = new Set<string>();

/**
 * The preprocessed splits from `cacheFile` when it is valid, else computed and the file rewritten.
 * The cache is optional: when the file cannot be written (read-only or full disk, no permission, a
 * file where a folder should be), the splits computed in memory are returned and `warn` is told,
 * naming the file, once per process: later runs of the same process use memory without trying.
 */
export function preprocessWithCache(
  sources: readonly Split[],
  cacheFile: string | undefined,
  warn: CacheWarning = warnOnStderr,
): { splits: PreprocessedSplit[]; cache: CacheOutcome } {
  if (cacheFile === undefined) return { splits: sources.map(preprocess), cache: 'disabled' };
  removeDeadWritersTempFiles(cacheFile);
  const existed = fs.existsSync(cacheFile);
  if (existed) {
    try {
      return { splits: readPreprocessedCache(cacheFile, sources), cache: 'hit' };
    } catch (error) {
      if (!(error instanceof PreprocessedCacheError)) throw error;
    }
  }
  const splits = sources.map(preprocess);
  if (unwritableFiles.has(path.resolve(cacheFile))) return { splits, cache: 'unwritable' };
  try {
    writePreprocessedCache(cacheFile, sources, splits);
  } catch (error) {
    if (error instanceof PreprocessedCacheError) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    unwritableFiles.add(path.resolve(cacheFile));
    warn(`warning: cannot write the preprocessed cache ${cacheFile} (${reason}); training from memory`);
    return { splits, cache: 'unwritable' };
  }
  return { splits, cache: existed ? 'rebuilt' : 'created' };
}
