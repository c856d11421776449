/**
 * The IDX file format of the MNIST archives (yann.lecun.com/exdb/mnist): a gzip stream holding a
 * big-endian header (magic, then one uint32 per dimension) and the raw uint8 body. Everything is
 * checked before a byte is trusted: a wrong file must fail here with its name, not train.
 */
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors';

export const IDX_IMAGES_MAGIC = 2051; // 0x00000803: unsigned byte, 3 dimensions
export const IDX_LABELS_MAGIC = 2049; // 0x00000801: unsigned byte, 1 dimension
export const IMAGE_SIZE = 28;
export const PIXELS_PER_IMAGE = IMAGE_SIZE * IMAGE_SIZE;
export const CLASS_COUNT = 10;

const IMAGES_HEADER_BYTES = 16;
const LABELS_HEADER_BYTES = 8;

/** A file that is not the IDX content it should be; the message names the file and what is wrong. */
export class IdxFormatError extends DataError {
  override name = 'IdxFormatError';
  constructor(
    readonly fileName: string,
    /** What is wrong, without the file name or the fix: "has IDX magic 2049, expected 2051". */
    readonly reason: string,
    fix: string,
  ) {
    super(`${fileName} ${reason}; ${fix}`);
  }
}

const REPLACE = 'use the original MNIST file';
const REDOWNLOAD = 'download it again';

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count * rows * cols bytes, image after image, row-major. */
  pixels: Uint8Array;
}

/** What the caller knows the file must hold; omitted fields are not checked. */
export interface IdxExpectation {
  count?: number;
}

/** Un-gzips an IDX file; a truncated or damaged stream becomes an IdxFormatError naming the file. */
export function gunzipIdx(gzipped: Uint8Array, fileName: string): Uint8Array {
  if (gzipped.length < 2 || gzipped[0] !== 0x1f || gzipped[1] !== 0x8b) {
    throw new IdxFormatError(fileName, `is not a gzip file (it does not start with 1f 8b)`, `replace it with the original .gz file`);
  }
  try {
    return gunzipSync(gzipped);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const what = /unexpected end/i.test(reason) ? 'is a truncated gzip file' : 'is a damaged gzip file';
    throw new IdxFormatError(fileName, `${what} (${reason})`, REDOWNLOAD);
  }
}

/** The header as a view, after the magic: the magic comes first so a swapped file is named as such. */
function readHeader(raw: Uint8Array, headerBytes: number, magic: number, fileName: string): DataView {
  if (raw.length < 4) {
    throw new IdxFormatError(fileName, `is too short for an IDX header (${raw.length} bytes, need ${headerBytes})`, REDOWNLOAD);
  }
  checkMagic(new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0), magic, fileName);
  if (raw.length < headerBytes) {
    throw new IdxFormatError(fileName, `is too short for an IDX header (${raw.length} bytes, need ${headerBytes})`, REDOWNLOAD);
  }
  return new DataView(raw.buffer, raw.byteOffset, headerBytes);
}

function checkMagic(actual: number, expected: number, fileName: string): void {
  if (actual === expected) return;
  const hint =
    actual === IDX_LABELS_MAGIC ? ' (a labels file: are the file names swapped?)'
    : actual === IDX_IMAGES_MAGIC ? ' (an images file: are the file names swapped?)'
    : '';
  throw new IdxFormatError(fileName, `has IDX magic ${actual}, expected ${expected}${hint}`, REPLACE);
}

function checkCount(actual: number, expectation: IdxExpectation, fileName: string): void {
  if (expectation.count !== undefined && actual !== expectation.count) {
    throw new IdxFormatError(fileName, `holds ${actual} items, expected ${expectation.count}`, REPLACE);
  }
}

function checkBodyLength(actual: number, expected: number, fileName: string): void {
  if (actual === expected) return;
  const what = actual < expected ? 'is truncated' : 'has trailing bytes';
  throw new IdxFormatError(fileName, `${what}: body is ${actual} bytes, header promises ${expected}`, REDOWNLOAD);
}

/** Parses an un-gzipped IDX images file (magic 2051, N x 28 x 28). The pixels are a view of `raw`. */
export function decodeIdxImages(raw: Uint8Array, fileName: string, expectation: IdxExpectation = {}): IdxImages {
  const header = readHeader(raw, IMAGES_HEADER_BYTES, IDX_IMAGES_MAGIC, fileName);
  const count = header.getUint32(4);
  const rows = header.getUint32(8);
  const cols = header.getUint32(12);
  checkCount(count, expectation, fileName);
  if (rows !== IMAGE_SIZE || cols !== IMAGE_SIZE) {
    throw new IdxFormatError(fileName, `holds ${rows}x${cols} images, expected ${IMAGE_SIZE}x${IMAGE_SIZE}`, REPLACE);
  }
  checkBodyLength(raw.length - IMAGES_HEADER_BYTES, count * rows * cols, fileName);
  return { count, rows, cols, pixels: raw.subarray(IMAGES_HEADER_BYTES) };
}

/** Parses an un-gzipped IDX labels file (magic 2049); every label must be a digit 0-9. */
export function decodeIdxLabels(raw: Uint8Array, fileName: string, expectation: IdxExpectation = {}): Uint8Array {
  const header = readHeader(raw, LABELS_HEADER_BYTES, IDX_LABELS_MAGIC, fileName);
  const count = header.getUint32(4);
  checkCount(count, expectation, fileName);
  checkBodyLength(raw.length - LABELS_HEADER_BYTES, count, fileName);
  const labels = raw.subarray(LABELS_HEADER_BYTES);
  const bad = labels.findIndex((label) => label >= CLASS_COUNT);
  if (bad >= 0) {
    throw new IdxFormatError(fileName, `has label ${labels[bad]} at index ${bad}, expected 0-9`, REPLACE);
  }
  return labels;
}

/** gunzip + decodeIdxImages. */
export function parseIdxImages(gzipped: Uint8Array, fileName: string, expectation: IdxExpectation = {}): IdxImages {
  return decodeIdxImages(gunzipIdx(gzipped, fileName), fileName, expectation);
}

/** gunzip + decodeIdxLabels. */
export function parseIdxLabels(gzipped: Uint8Array, fileName: string, expectation: IdxExpectation = {}): Uint8Array {
  return decodeIdxLabels(gunzipIdx(gzipped, fileName), fileName, expectation);
}
