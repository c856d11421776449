import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { IdxFormatError, parseIdxImages, parseIdxLabels } from '../lib/idx';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const mnistDir = path.resolve(repoRoot, process.env.MNIST_DIR ?? '../shared/data/mnist');

/** An IDX images file written from scratch: magic, count, rows, cols (big-endian), then the pixels. */
function idxImages(count: number, rows: number, cols: number, options: { magic?: number; bodyBytes?: number } = {}): Uint8Array {
  const bodyBytes = options.bodyBytes ?? count * rows * cols;
  const raw = Buffer.alloc(16 + bodyBytes);
  raw.writeUInt32BE(options.magic ?? 2051, 0);
  raw.writeUInt32BE(count, 4);
  raw.writeUInt32BE(rows, 8);
  raw.writeUInt32BE(cols, 12);
  for (let i = 0; i < bodyBytes; i++) raw[16 + i] = (i * 7) % 256;
  return gzipSync(raw);
}

function idxLabels(labels: number[], options: { magic?: number; count?: number } = {}): Uint8Array {
  const raw = Buffer.alloc(8 + labels.length);
  raw.writeUInt32BE(options.magic ?? 2049, 0);
  raw.writeUInt32BE(options.count ?? labels.length, 4);
  labels.forEach((label, i) => (raw[8 + i] = label));
  return gzipSync(raw);
}

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof IdxFormatError, `expected IdxFormatError, got ${String(error)}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes('\n'), 'one-line message');
    return true;
  });
}

describe('IDX parsing of the real MNIST files', () => {
  const read = (name: string): Buffer => fs.readFileSync(path.join(mnistDir, name));

  it('reads 60,000 and 10,000 28x28 images whose bytes are the file body', () => {
    for (const [name, expectedCount] of [['train-images-idx3-ubyte.gz', 60_000], ['t10k-images-idx3-ubyte.gz', 10_000]] as const) {
      const gz = read(name);
      const raw = gunzipSync(gz);
      const images = parseIdxImages(gz, name, { count: expectedCount });
      assert.equal(images.count, raw.readUInt32BE(4));
      assert.equal(images.count, expectedCount);
      assert.equal(images.rows, 28);
      assert.equal(images.cols, 28);
      assert.equal(images.pixels.length, expectedCount * 784);
      assert.ok(Buffer.from(images.pixels).equals(raw.subarray(16)));
    }
  });

  it('reads labels that match the file bytes, with every digit present', () => {
    for (const [name, expectedCount] of [['train-labels-idx1-ubyte.gz', 60_000], ['t10k-labels-idx1-ubyte.gz', 10_000]] as const) {
      const gz = read(name);
      const body = gunzipSync(gz).subarray(8);
      const labels = parseIdxLabels(gz, name, { count: expectedCount });
      assert.equal(labels.length, expectedCount);
      const histogram = new Array<number>(10).fill(0);
      for (const label of labels) histogram[label]! += 1;
      const independent = new Array<number>(10).fill(0);
      for (const byte of body) independent[byte]! += 1;
      assert.deepEqual(histogram, independent);
      assert.equal(histogram.reduce((a, b) => a + b, 0), expectedCount);
      assert.ok(histogram.every((n) => n > expectedCount / 20), 'each digit is a sizeable class');
      assert.deepEqual(Array.from(labels.subarray(0, 20)), Array.from(body.subarray(0, 20)));
    }
    // The first training digits of MNIST, as pictured in countless tutorials.
    assert.deepEqual(Array.from(parseIdxLabels(read('train-labels-idx1-ubyte.gz'), 'x').subarray(0, 5)), [5, 0, 4, 1, 9]);
  });
});

describe('IDX validation', () => {
  it('accepts a well-formed synthetic file', () => {
    const images = parseIdxImages(idxImages(3, 28, 28), 'tiny-images.gz', { count: 3 });
    assert.equal(images.count, 3);
    assert.equal(images.pixels[1], 7);
    assert.deepEqual(Array.from(parseIdxLabels(idxLabels([3, 1, 4]), 'tiny-labels.gz')), [3, 1, 4]);
  });

  it('rejects a truncated gzip stream, naming the file', () => {
    const gz = idxImages(50, 28, 28);
    rejects(() => parseIdxImages(gz.subarray(0, Math.floor(gz.length / 2)), 'cut.gz'), /^cut\.gz is a truncated gzip file/);
  });

  it('rejects bytes that are not gzip', () => {
    rejects(() => parseIdxImages(new TextEncoder().encode('<html>Not found</html>'), 'page.gz'), /page\.gz is not a gzip file/);
  });

  it('rejects the wrong magic, saying when the files look swapped', () => {
    rejects(() => parseIdxImages(idxLabels([1, 2]), 'swapped.gz'), /swapped\.gz has IDX magic 2049, expected 2051 \(a labels file/);
    rejects(() => parseIdxLabels(idxImages(1, 28, 28), 'swapped.gz'), /has IDX magic 2051, expected 2049/);
    rejects(() => parseIdxImages(idxImages(1, 28, 28, { magic: 2052 }), 'odd.gz'), /magic 2052, expected 2051/);
  });

  it('rejects a count other than the expected one', () => {
    rejects(() => parseIdxImages(idxImages(4, 28, 28), 'few.gz', { count: 5 }), /few\.gz holds 4 items, expected 5/);
    rejects(() => parseIdxLabels(idxLabels([1, 2]), 'few.gz', { count: 3 }), /holds 2 items, expected 3/);
  });

  it('rejects images that are not 28x28', () => {
    rejects(() => parseIdxImages(idxImages(2, 32, 32), 'cifar.gz'), /cifar\.gz holds 32x32 images, expected 28x28/);
  });

  it('rejects a body shorter or longer than the header promises', () => {
    rejects(() => parseIdxImages(idxImages(2, 28, 28, { bodyBytes: 784 }), 'short.gz'), /short\.gz is truncated: body is 784 bytes, header promises 1568/);
    rejects(() => parseIdxImages(idxImages(2, 28, 28, { bodyBytes: 1569 }), 'long.gz'), /long\.gz has trailing bytes/);
    rejects(() => parseIdxLabels(idxLabels([1, 2], { count: 3 }), 'short-labels.gz'), /is truncated: body is 2 bytes, header promises 3/);
    rejects(() => parseIdxLabels(gzipSync(Buffer.from([0, 0, 8])), 'stub.gz'), /too short for an IDX header/);
  });

  it('rejects a label outside 0-9', () => {
    rejects(() => parseIdxLabels(idxLabels([1, 10, 2]), 'bad-labels.gz'), /has label 10 at index 1, expected 0-9/);
  });
});
