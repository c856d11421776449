/**
 * MNIST in every common form (original .gz, re-gzipped, un-gzipped, Kaggle's dot names,
 * torchvision's MNIST/raw tree), from --data, MNIST_DIR or the cache; a user's files are never
 * deleted or changed; Fashion-MNIST is still refused; stale temporary files of dead writers go.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadMnist, MnistChecksumError, MNIST_FILES, MnistNotFoundError, type MnistArrays } from '../lib/data';
import { DataError } from '../lib/errors';
import {
  DOT_NAMES,
  FASHION_DIR,
  fashionSkip,
  GZ_NAMES,
  mnistBodies,
  mnistDir,
  rawIdx,
  RAW_NAMES,
  sameFiles,
  snapshot,
  writeOriginal,
  writeRegzipped,
  writeTorchvisionTree,
  writeUncompressed,
} from './mnist-layouts';
import { tempDirFactory } from './temp-dirs';

const tempDir = tempDirFactory('mnist-forms-test-');

/** Nothing listens on port 1 of the loopback: a download fails at once. */
const UNREACHABLE = ['http://127.0.0.1:1/'];

const bodies = mnistBodies();

function assertIsMnist(arrays: MnistArrays): void {
  assert.equal(arrays.train.count, 60_000);
  assert.equal(arrays.test.count, 10_000);
  assert.ok(Buffer.from(arrays.train.images).equals(bodies.trainImages), 'train images');
  assert.ok(Buffer.from(arrays.train.labels).equals(bodies.trainLabels), 'train labels');
  assert.ok(Buffer.from(arrays.test.images).equals(bodies.testImages), 'test images');
  assert.ok(Buffer.from(arrays.test.labels).equals(bodies.testLabels), 'test labels');
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error);
    assert.ok(!error.message.includes('\n'), `one-line message: ${error.message}`);
    return error;
  }
  assert.fail('expected a rejection');
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('the SHA-256 of the decoded data', () => {
  it('is recorded for each file, and equals the hash of the real file un-gzipped', () => {
    for (const file of MNIST_FILES) {
      assert.equal((file as { rawSha256?: string }).rawSha256, sha256(rawIdx(file.name)), file.name);
    }
  });
});

describe('MNIST in every common form, from a folder', () => {
  it('accepts the four un-gzipped IDX files (torchvision MNIST/raw, Kaggle)', async () => {
    const dir = writeUncompressed(tempDir());
    assertIsMnist(await loadMnist({ dir, env: {}, mirrors: UNREACHABLE }));
  });

  it('accepts Kaggle dot names (train-images.idx3-ubyte)', async () => {
    const dir = writeUncompressed(tempDir(), DOT_NAMES);
    assertIsMnist(await loadMnist({ dir, env: {}, mirrors: UNREACHABLE }));
  });

  it("accepts Kaggle's unzipped layout: each un-gzipped file in a folder of its own name", async () => {
    const dir = tempDir();
    RAW_NAMES.forEach((name, i) => {
      fs.mkdirSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name, name), rawIdx(GZ_NAMES[i]!));
    });
    assertIsMnist(await loadMnist({ dir, env: {}, mirrors: UNREACHABLE }));
  });

  it('accepts the four files gzipped again by the user (other gzip bytes, same data)', async () => {
    const dir = writeRegzipped(tempDir());
    assertIsMnist(await loadMnist({ dir, env: {}, mirrors: UNREACHABLE }));
  });

  it('finds torchvision MNIST/raw when pointed at MNIST/ or at its parent, from the option or MNIST_DIR', async () => {
    const root = writeTorchvisionTree(tempDir());
    assertIsMnist(await loadMnist({ dir: path.join(root, 'MNIST'), env: {}, mirrors: UNREACHABLE }));
    assertIsMnist(await loadMnist({ dir: root, env: {}, mirrors: UNREACHABLE }));
    assertIsMnist(await loadMnist({ env: { MNIST_DIR: root }, cacheDir: tempDir(), mirrors: UNREACHABLE }));
  });

  it('finds torchvision MNIST/raw holding only the un-gzipped files', async () => {
    const root = tempDir();
    writeUncompressed(path.join(root, 'MNIST', 'raw'));
    assertIsMnist(await loadMnist({ dir: root, env: {}, mirrors: UNREACHABLE }));
  });

  it('refuses a damaged un-gzipped file, naming it and leaving it in place', async () => {
    const dir = writeUncompressed(tempDir());
    const file = path.join(dir, RAW_NAMES[3]!);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    const before = snapshot(dir);
    const error = await caught(loadMnist({ dir, env: {}, mirrors: UNREACHABLE }));
    assert.ok(error instanceof MnistChecksumError, String(error));
    assert.ok(error.message.includes(file), error.message);
    assert.match(error.message, /truncated/);
    assert.ok(sameFiles(dir, before));
  });
});

describe('Fashion-MNIST is another dataset', { skip: fashionSkip }, () => {
  const fashionMessage = /another dataset such as Fashion-MNIST/;

  it('is refused as the original .gz files', async () => {
    const error = await caught(loadMnist({ dir: FASHION_DIR, env: {}, mirrors: UNREACHABLE }));
    assert.ok(error instanceof MnistChecksumError && error instanceof DataError, String(error));
    assert.match(error.message, fashionMessage);
    assert.ok(error.message.includes(FASHION_DIR), error.message);
  });

  it('is refused un-gzipped, and re-gzipped', async () => {
    for (const dir of [writeUncompressed(tempDir(), RAW_NAMES, FASHION_DIR), writeRegzipped(tempDir(), FASHION_DIR)]) {
      const error = await caught(loadMnist({ dir, env: {}, mirrors: UNREACHABLE }));
      assert.ok(error instanceof MnistChecksumError, String(error));
      assert.match(error.message, fashionMessage);
    }
  });

  it('is refused in torchvision layout MNIST/raw; FashionMNIST/raw is not taken for MNIST', async () => {
    const root = writeTorchvisionTree(tempDir(), 'MNIST', FASHION_DIR);
    assert.match((await caught(loadMnist({ dir: root, env: {}, mirrors: UNREACHABLE }))).message, fashionMessage);
    const fashionRoot = writeTorchvisionTree(tempDir(), 'FashionMNIST', FASHION_DIR);
    assert.ok((await caught(loadMnist({ dir: fashionRoot, env: {}, mirrors: UNREACHABLE }))) instanceof MnistNotFoundError);
  });

  it('placed in the cache folder is refused, named, and left untouched', async () => {
    const cacheDir = writeOriginal(tempDir(), FASHION_DIR);
    const before = snapshot(cacheDir);
    const error = await caught(loadMnist({ cacheDir, env: {}, mirrors: UNREACHABLE }));
    assert.ok(error instanceof MnistChecksumError, String(error));
    assert.match(error.message, fashionMessage);
    assert.ok(error.message.includes(cacheDir), error.message);
    assert.ok(sameFiles(cacheDir, before), 'the files are still there, unchanged');
  });
});

describe('files a user put in the cache folder', () => {
  it('re-gzipped MNIST is used, never deleted or downloaded again', async () => {
    const cacheDir = writeRegzipped(tempDir());
    const before = snapshot(cacheDir);
    assertIsMnist(await loadMnist({ cacheDir, env: {}, mirrors: UNREACHABLE }));
    assert.ok(sameFiles(cacheDir, before), 'the files are still there, unchanged');
  });

  it('un-gzipped MNIST is used as it is', async () => {
    const cacheDir = writeUncompressed(tempDir());
    const before = snapshot(cacheDir);
    assertIsMnist(await loadMnist({ cacheDir, env: {}, mirrors: UNREACHABLE }));
    assert.ok(sameFiles(cacheDir, before));
  });

  it('a damaged file is refused with its path and left in place', async () => {
    const cacheDir = writeOriginal(tempDir());
    const damaged = path.join(cacheDir, GZ_NAMES[3]);
    fs.writeFileSync(damaged, 'garbage');
    const before = snapshot(cacheDir);
    const error = await caught(loadMnist({ cacheDir, env: {}, mirrors: UNREACHABLE }));
    assert.ok(error instanceof MnistChecksumError, String(error));
    assert.ok(error.message.includes(damaged), error.message);
    assert.ok(sameFiles(cacheDir, before), 'nothing deleted');
  });
});

describe('a --data or MNIST_DIR that is a file', () => {
  it('says it is a file and a folder is expected, naming --data', async () => {
    const file = path.join(mnistDir, GZ_NAMES[0]);
    const error = await caught(loadMnist({ dir: file, env: {}, mirrors: UNREACHABLE }));
    assert.ok(error instanceof MnistNotFoundError, String(error));
    assert.ok(error.message.includes(file), error.message);
    assert.match(error.message, /is a file/);
    assert.match(error.message, /folder is expected/);
    assert.match(error.message, /--data/);
    assert.doesNotMatch(error.message, /does not exist|dir option/);
  });

  it('names MNIST_DIR when the file came from there', async () => {
    const file = path.join(mnistDir, GZ_NAMES[0]);
    const error = await caught(loadMnist({ env: { MNIST_DIR: file }, cacheDir: tempDir(), mirrors: UNREACHABLE }));
    assert.match(error.message, /MNIST_DIR/);
    assert.match(error.message, /is a file/);
    assert.doesNotMatch(error.message, /does not exist|dir option/);
  });
});

describe('stale temporary files in the cache folder', () => {
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
  const dayAgo = new Date(Date.now() - 24 * 3600 * 1000);

  function plant(cacheDir: string): { dead: string[]; kept: string[] } {
    const dead = [
      `mnist-normalised-v1.bin.${deadPid}.k1lled00.tmp`,
      `${GZ_NAMES[0]}.${deadPid}.k1lled00.download`,
    ];
    const old = `mnist-normalised-v1.bin.${process.pid}.0ld00000.tmp`; // a live pid, reused long after
    const live = `mnist-normalised-v1.bin.${process.pid}.running0.tmp`;
    const user = ['notes.tmp', 'my-copy.bin'];
    for (const name of [...dead, old, live, ...user]) fs.writeFileSync(path.join(cacheDir, name), 'partial');
    fs.utimesSync(path.join(cacheDir, old), dayAgo, dayAgo);
    return { dead: [...dead, old], kept: [live, ...user] };
  }

  it('are removed at the start of a load from the cache; a live writer and user files stay', async () => {
    const cacheDir = writeOriginal(tempDir());
    const { dead, kept } = plant(cacheDir);
    assertIsMnist(await loadMnist({ cacheDir, env: {}, mirrors: UNREACHABLE }));
    const left = fs.readdirSync(cacheDir);
    for (const name of dead) assert.ok(!left.includes(name), `${name} removed`);
    for (const name of kept) assert.ok(left.includes(name), `${name} kept`);
  });

  it('are removed from the cache folder also when MNIST comes from --data', async () => {
    const cacheDir = tempDir();
    const { dead, kept } = plant(cacheDir);
    assertIsMnist(await loadMnist({ dir: mnistDir, cacheDir, env: {}, mirrors: UNREACHABLE }));
    const left = fs.readdirSync(cacheDir);
    for (const name of dead) assert.ok(!left.includes(name), `${name} removed`);
    for (const name of kept) assert.ok(left.includes(name), `${name} kept`);
  });
});
