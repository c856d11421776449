import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  holdOutValidation,
  loadMnist,
  MnistChecksumError,
  MNIST_MIRRORS,
  MnistNotFoundError,
  normalise,
  takeSubset,
  type MnistArrays,
} from '../lib/data';
import { indexedSplit, indicesOfSplit } from './indexed-split';
import { tempDirFactory } from './temp-dirs';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const mnistDir = path.resolve(repoRoot, process.env.MNIST_DIR ?? '../shared/data/mnist');
const FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

const tempDir = tempDirFactory('mnist-data-test-');

/** A temp copy of the MNIST folder, with `name` replaced by `bytes` when given. */
function copyOfMnist(replace?: { name: string; bytes: Uint8Array }): string {
  const dir = tempDir();
  for (const name of FILES) fs.copyFileSync(path.join(mnistDir, name), path.join(dir, name));
  if (replace) fs.writeFileSync(path.join(dir, replace.name), replace.bytes);
  return dir;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function publishedSha256(name: string): string {
  const line = fs.readFileSync(path.join(mnistDir, 'SHA256SUMS'), 'utf8').split('\n').find((l) => l.trim().endsWith(name));
  return line!.split(/\s+/)[0]!;
}

/** The raw IDX bytes of a real file, changed by `edit`, gzipped again: well-formed gzip, wrong content. */
function editedIdx(name: string, edit: (raw: Buffer) => Buffer): Buffer {
  return gzipSync(edit(Buffer.from(gunzipSync(fs.readFileSync(path.join(mnistDir, name))))));
}

async function rejectsWith(dir: string, errorClass: new (...args: never[]) => Error, patterns: RegExp[]): Promise<Error> {
  let caught: unknown;
  try {
    await loadMnist({ dir, env: {} });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof errorClass, `expected ${errorClass.name}, got ${String(caught)}`);
  for (const pattern of patterns) assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes('\n'), 'one-line message');
  return caught;
}

function escape(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

let real: MnistArrays;

before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  real = await loadMnist({ dir: mnistDir, env: {} });
});

describe('loadMnist from a folder', () => {
  it('returns 60,000 + 10,000 samples equal to the files bodies', () => {
    assert.equal(real.train.count, 60_000);
    assert.equal(real.test.count, 10_000);
    const body = (name: string, header: number): Buffer => gunzipSync(fs.readFileSync(path.join(mnistDir, name))).subarray(header);
    assert.ok(Buffer.from(real.train.images).equals(body(FILES[0]!, 16)));
    assert.ok(Buffer.from(real.train.labels).equals(body(FILES[1]!, 8)));
    assert.ok(Buffer.from(real.test.images).equals(body(FILES[2]!, 16)));
    assert.ok(Buffer.from(real.test.labels).equals(body(FILES[3]!, 8)));
  });

  it('hands out copies: changing one result does not change the next', async () => {
    const first = await loadMnist({ dir: mnistDir, env: {} });
    const before = first.test.labels[0]!;
    first.test.labels[0] = (before + 1) % 10;
    const second = await loadMnist({ dir: mnistDir, env: {} });
    assert.equal(second.test.labels[0], before);
  });

  it('uses MNIST_DIR from the environment when no dir is given', async () => {
    const arrays = await loadMnist({ env: { MNIST_DIR: mnistDir }, cacheDir: path.join(tempDir(), 'unused') });
    assert.equal(arrays.test.count, 10_000);
  });

  it('rejects a missing folder, naming it and where it came from', async () => {
    const missing = path.join(tempDir(), 'no-such-folder');
    await rejectsWith(missing, MnistNotFoundError, [escape(missing), /does not exist/, /from --data/, /t10k-labels-idx1-ubyte\.gz/]);
    let caught: unknown;
    try {
      await loadMnist({ env: { MNIST_DIR: missing } });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof MnistNotFoundError);
    assert.ok(caught.message.includes(`MNIST_DIR='${missing}' is not allowed: it does not exist; use a folder`), caught.message);
  });

  it('rejects a folder lacking one file, naming the file and where to get it', async () => {
    const dir = copyOfMnist();
    fs.rmSync(path.join(dir, 't10k-images-idx3-ubyte.gz'));
    await rejectsWith(dir, MnistNotFoundError, [/lacks t10k-images-idx3-ubyte\.gz;/, escape(`fetch ${MNIST_MIRRORS[0]}t10k-images-idx3-ubyte.gz`)]);
  });

  it('checks a file again after it changes', async () => {
    const dir = copyOfMnist();
    assert.equal((await loadMnist({ dir, env: {} })).test.count, 10_000);
    fs.writeFileSync(path.join(dir, FILES[3]!), gzipSync(Buffer.from('not mnist')));
    await rejectsWith(dir, MnistChecksumError, [escape(FILES[3]!)]);
  });

  it('rejects corrupt bytes with the file and both hashes', async () => {
    const bytes = Buffer.from(fs.readFileSync(path.join(mnistDir, FILES[3]!)));
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    const dir = copyOfMnist({ name: FILES[3]!, bytes });
    const error = await rejectsWith(dir, MnistChecksumError, [
      escape(path.join(dir, FILES[3]!)),
      escape(publishedSha256(FILES[3]!)),
      escape(sha256(bytes)),
      /damaged gzip|not the MNIST file/,
    ]);
    assert.equal((error as MnistChecksumError).actualSha256, sha256(bytes));
  });

  it('rejects a truncated file, saying it is truncated', async () => {
    const whole = fs.readFileSync(path.join(mnistDir, FILES[2]!));
    const bytes = whole.subarray(0, Math.floor(whole.length * 0.6));
    const dir = copyOfMnist({ name: FILES[2]!, bytes });
    await rejectsWith(dir, MnistChecksumError, [escape(FILES[2]!), escape(sha256(bytes)), /truncated gzip/]);
  });

  it('rejects a valid IDX file with the wrong magic', async () => {
    const bytes = editedIdx(FILES[3]!, (raw) => (raw.writeUInt32BE(2051, 0), raw));
    await rejectsWith(copyOfMnist({ name: FILES[3]!, bytes }), MnistChecksumError, [/magic 2051, expected 2049/]);
  });

  it('rejects a valid IDX file with the wrong count', async () => {
    const bytes = editedIdx(FILES[3]!, (raw) => (raw.writeUInt32BE(9_999, 4), raw.subarray(0, raw.length - 1)));
    await rejectsWith(copyOfMnist({ name: FILES[3]!, bytes }), MnistChecksumError, [/holds 9999 items, expected 10000/]);
  });

  it('rejects a valid IDX file with the wrong image size', async () => {
    const bytes = editedIdx(FILES[2]!, (raw) => {
      const small = Buffer.alloc(16 + 10_000 * 27 * 27);
      raw.copy(small, 0, 0, 16);
      small.writeUInt32BE(27, 8);
      small.writeUInt32BE(27, 12);
      return small;
    });
    await rejectsWith(copyOfMnist({ name: FILES[2]!, bytes }), MnistChecksumError, [/27x27 images, expected 28x28/]);
  });

  it('rejects foreign data of the same shape instead of training on it', async () => {
    // Same header and shape, other labels: what Fashion-MNIST's labels file looks like to a parser.
    const bytes = editedIdx(FILES[3]!, (raw) => {
      for (let i = 8; i < raw.length; i++) raw[i] = (raw[i]! + 3) % 10;
      return raw;
    });
    // The check is on the data, so the message gives the hash of the un-gzipped bytes.
    await rejectsWith(copyOfMnist({ name: FILES[3]!, bytes }), MnistChecksumError, [
      /well-formed IDX data of the right shape but not the MNIST file/,
      escape(sha256(gunzipSync(bytes))),
    ]);
  });
});

describe('normalising and subsets', () => {
  it('normalises as (x/255 - 0.1307)/0.3081 in float32', () => {
    const pixels = Uint8Array.from({ length: 256 }, (_, i) => i);
    const out = normalise(pixels);
    assert.ok(out instanceof Float32Array);
    for (let x = 0; x < 256; x++) assert.ok(Math.abs(out[x]! - (x / 255 - 0.1307) / 0.3081) < 1e-6, `pixel ${x}`);
  });

  it('takes the first samples as copies and refuses impossible counts', () => {
    const subset = takeSubset(real, 1000, 200);
    assert.equal(subset.train.count, 1000);
    assert.equal(subset.test.labels.length, 200);
    assert.ok(Buffer.from(subset.train.images).equals(Buffer.from(real.train.images.subarray(0, 1000 * 784))));
    assert.throws(() => takeSubset(real, 70_000, 10), /trainCount must be an integer from 0 to 60000/);
    assert.throws(() => takeSubset(real, 10, 1.5), /testCount/);
  });

  it('holds out a seeded validation set, disjoint from the rest', () => {
    const split = indexedSplit(3000);
    const held = holdOutValidation(split, 500, 7);
    assert.equal(held.validation.count, 500);
    assert.equal(held.train.count, 2500);
    const decode = indicesOfSplit;
    const validation = decode(held.validation);
    const train = decode(held.train);
    assert.deepEqual([...validation, ...train].sort((a, b) => a - b), Array.from({ length: 3000 }, (_, i) => i));
    assert.deepEqual(Array.from(held.train.labels.subarray(0, 50)), train.slice(0, 50).map((i) => i % 10));
    assert.deepEqual(decode(holdOutValidation(split, 500, 7).validation), validation);
    assert.notDeepEqual(decode(holdOutValidation(split, 500, 8).validation), validation);
    assert.throws(() => holdOutValidation(split, 3000, 1), /validation count must be an integer from 1 to 2999/);
  });
});
