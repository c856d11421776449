/**
 * The four MNIST files in every form users have them: the original .gz archives, the same data
 * gzipped again (other gzip bytes), or un-gzipped IDX files (torchvision's MNIST/raw, Kaggle, also
 * with Kaggle's dot names), in a folder or in torchvision's MNIST/raw under it. A file is trusted
 * when the SHA-256 of its DATA (un-gzipped) is the original's, whatever wraps it; anything else is
 * refused with its path and why. Nothing here deletes, moves or writes a file.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataError } from './errors';
import { decodeIdxImages, decodeIdxLabels, gunzipIdx, IdxFormatError } from './idx';

export interface MnistFile {
  /** The archive's name on the mirrors, e.g. train-images-idx3-ubyte.gz. */
  name: string;
  /** SHA-256 of the original .gz archive, byte for byte: what a download must match. */
  sha256: string;
  /** SHA-256 of the un-gzipped IDX data: what a file on disk must match, gzipped or not. */
  rawSha256: string;
  split: 'train' | 'test';
  kind: 'images' | 'labels';
  count: number;
}

/** The original LeCun files; any other content is refused. */
export const MNIST_FILES: readonly MnistFile[] = [
  {
    name: 'train-images-idx3-ubyte.gz',
    sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
    rawSha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
    split: 'train', kind: 'images', count: 60_000,
  },
  {
    name: 'train-labels-idx1-ubyte.gz',
    sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
    rawSha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
    split: 'train', kind: 'labels', count: 60_000,
  },
  {
    name: 't10k-images-idx3-ubyte.gz',
    sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
    rawSha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
    split: 'test', kind: 'images', count: 10_000,
  },
  {
    name: 't10k-labels-idx1-ubyte.gz',
    sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
    rawSha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
    split: 'test', kind: 'labels', count: 10_000,
  },
];

/** Public copies of the original archives: the one torchvision uses, then TensorFlow's. */
export const MNIST_MIRRORS: readonly string[] = [
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
];

/** The files are not where they should be and could not be fetched; the message says where to put them. */
export class MnistNotFoundError extends DataError {
  override name = 'MnistNotFoundError';
}

export interface ChecksumDetail {
  /** What was hashed: the file's bytes (a damaged archive) or its un-gzipped data (default: bytes). */
  hashed?: 'bytes' | 'data';
  /** What to do, replacing the default "replace it with the original from <url>". */
  fix?: string;
}

/** A file whose content is not the original's: corrupt, truncated or another dataset. Left where it is. */
export class MnistChecksumError extends DataError {
  override name = 'MnistChecksumError';
  constructor(
    readonly filePath: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
    diagnosis: string,
    detail: ChecksumDetail = {},
  ) {
    const hashed = detail.hashed === 'data' ? 'its un-gzipped data' : 'the file';
    const fix = detail.fix ?? `replace it with the original from ${MNIST_MIRRORS[0]}${gzName(path.basename(filePath))}`;
    super(`${filePath} fails its SHA-256 check (${hashed} hashes to ${actualSha256}, expected ${expectedSha256}): ${diagnosis}; ${fix}`);
  }
}

/** train-images-idx3-ubyte and train-images.idx3-ubyte(.gz) -> train-images-idx3-ubyte.gz */
function gzName(fileName: string): string {
  const base = fileName.replace(/\.gz$/, '').replace(/\.(idx\d-ubyte)$/, '-$1');
  return `${base}.gz`;
}

/**
 * The names one file goes by, in the order they are tried: un-gzipped (torchvision, Kaggle; no
 * un-gzipping to do), Kaggle's dot form, the archive, and the un-gzipped file in a folder of its
 * own name (how Kaggle's zip unpacks).
 */
export function namesOf(file: MnistFile): string[] {
  const raw = file.name.replace(/\.gz$/, '');
  return [raw, raw.replace(/-(idx\d-ubyte)$/, '.$1'), file.name, path.join(raw, raw)];
}

/** The folders looked in for `dir`: itself, then torchvision's layout when pointed at MNIST/ or its parent. */
export function foldersFor(dir: string): string[] {
  return [dir, path.join(dir, 'raw'), path.join(dir, 'MNIST', 'raw')];
}

/** The paths of `file` present in `folder` (plain files only), in the order they are tried. */
export function presentPaths(folder: string, file: MnistFile): string[] {
  return namesOf(file)
    .map((name) => path.join(folder, name))
    .filter((candidate) => {
      try {
        return fs.statSync(candidate).isFile();
      } catch {
        return false;
      }
    });
}

/** True when `name` is one of the names an MNIST file goes by. */
export function isMnistFileName(name: string): boolean {
  return MNIST_FILES.some((file) => namesOf(file).includes(name));
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const FOREIGN =
  'it is well-formed IDX data of the right shape but not the MNIST file (another dataset such as Fashion-MNIST, or altered bytes)';

/** What is wrong with the format of IDX data for `file`, or null when it is well-formed. */
function formatProblem(raw: Uint8Array, file: MnistFile, fileName: string): string | null {
  try {
    if (file.kind === 'images') decodeIdxImages(raw, fileName, { count: file.count });
    else decodeIdxLabels(raw, fileName, { count: file.count });
  } catch (error) {
    if (error instanceof IdxFormatError) return error.reason;
    throw error;
  }
  return null;
}

/** Why data with the wrong hash is wrong: its format, else it is another dataset. */
function diagnose(raw: Uint8Array, wasGzip: boolean, file: MnistFile, fileName: string): string {
  const problem = formatProblem(raw, file, fileName);
  if (problem === null) return FOREIGN;
  if (!wasGzip && fileName.endsWith('.gz')) return 'it is not a gzip file (it does not start with 1f 8b) nor IDX data';
  return `it ${problem}`;
}

/**
 * Verified un-gzipped data, memoised by path, size and mtime (an edited file is read again): the
 * last few files read, since un-gzipping and hashing 47 MB is what costs and notebooks and tests
 * load MNIST many times in one process. Callers must copy, never hand these arrays out.
 */
const verifiedByKey = new Map<string, Uint8Array>();
const MEMO_FILES = 4;

function remember(key: string, raw: Uint8Array): void {
  verifiedByKey.set(key, raw);
  // Map keeps insertion order: the first keys are the oldest.
  for (const oldKey of verifiedByKey.keys()) {
    if (verifiedByKey.size <= MEMO_FILES) break;
    verifiedByKey.delete(oldKey);
  }
}

/**
 * The un-gzipped IDX data of `filePath` (gzipped or not) after its SHA-256 matched `file`'s; throws
 * MnistChecksumError naming the path otherwise. `fix` replaces the default advice. The result is
 * shared: copy before handing it out.
 */
export function readVerifiedIdx(filePath: string, file: MnistFile, fix?: string): Uint8Array {
  const stat = fs.statSync(filePath);
  const key = `${path.resolve(filePath)}\0${stat.size}\0${stat.mtimeMs}`;
  const known = verifiedByKey.get(key);
  if (known) return known;
  const bytes = fs.readFileSync(filePath);
  const fileName = path.basename(filePath);
  let raw: Uint8Array = bytes;
  // The original archive itself: its own hash (10 MB) vouches for the data, which need not be hashed (47 MB).
  let isOriginalArchive = false;
  if (isGzip(bytes)) {
    const archiveSha256 = sha256Hex(bytes);
    isOriginalArchive = archiveSha256 === file.sha256;
    try {
      raw = gunzipIdx(bytes, fileName);
    } catch (error) {
      if (!(error instanceof IdxFormatError)) throw error;
      throw new MnistChecksumError(filePath, file.sha256, archiveSha256, `it ${error.reason}`, { hashed: 'bytes', fix });
    }
  }
  const actual = isOriginalArchive ? file.rawSha256 : sha256Hex(raw);
  if (actual !== file.rawSha256) {
    const diagnosis = diagnose(raw, raw !== bytes, file, fileName);
    if (raw !== bytes) throw new MnistChecksumError(filePath, file.rawSha256, actual, diagnosis, { hashed: 'data', fix });
    // Not gzip: its data is the file; one named .gz was meant to be the archive.
    const expected = fileName.endsWith('.gz') ? file.sha256 : file.rawSha256;
    throw new MnistChecksumError(filePath, expected, actual, diagnosis, { hashed: 'bytes', fix });
  }
  remember(key, raw);
  return raw;
}
