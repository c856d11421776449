import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadMnist, normalise, takeSubset, type MnistArrays } from '../lib/data';
import { batchesPerEpoch, deviceBatches, inSavedOrder, loadDeviceMnist, loadDeviceSplit, SAVED_ORDER_SEED } from '../lib/device-data';
import { preprocessWithCache } from '../lib/preprocessed-cache';
import { indexedSplit, indicesOf, indicesOfSplit } from './indexed-split';
import { tempDirFactory } from './temp-dirs';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const mnistDir = path.resolve(repoRoot, process.env.MNIST_DIR ?? '../shared/data/mnist');

const tempDir = tempDirFactory('mnist-device-test-');

let real: MnistArrays;

before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  real = await loadMnist({ dir: mnistDir, env: {} });
});

describe('the one-file preprocessed cache', () => {
  const small = (): MnistArrays => takeSubset(real, 600, 100);

  function checkValues(arrays: MnistArrays, splits: { images: Float32Array; labels: Int32Array }[]): void {
    assert.deepEqual(splits[0]!.images, normalise(arrays.train.images));
    assert.deepEqual(splits[0]!.labels, Int32Array.from(arrays.train.labels));
    assert.deepEqual(splits[1]!.images, normalise(arrays.test.images));
    assert.deepEqual(splits[1]!.labels, Int32Array.from(arrays.test.labels));
  }

  it('is written once, then read back equal', () => {
    const arrays = small();
    const file = path.join(tempDir(), 'nested', 'cache.bin');
    const first = preprocessWithCache([arrays.train, arrays.test], file);
    assert.equal(first.cache, 'created');
    checkValues(arrays, first.splits);
    const second = preprocessWithCache([arrays.train, arrays.test], file);
    assert.equal(second.cache, 'hit');
    checkValues(arrays, second.splits);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['cache.bin'], 'no temporary file left');
  });

  it('clears the temporary file of a killed writer', () => {
    const arrays = small();
    const dir = tempDir();
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    fs.writeFileSync(path.join(dir, `cache.bin.${deadPid}.k1lled00.tmp`), 'partial');
    assert.equal(preprocessWithCache([arrays.train, arrays.test], path.join(dir, 'cache.bin')).cache, 'created');
    assert.deepEqual(fs.readdirSync(dir), ['cache.bin']);
  });

  const damages: Array<[string, (bytes: Buffer) => Buffer]> = [
    ['a flipped payload byte', (b) => ((b[b.length - 5000]! ^= 1), b)],
    ['a truncated file', (b) => b.subarray(0, b.length - 1000)],
    ['a wrong magic', (b) => (b.write('XXXX', 0, 'latin1'), b)],
    ['a newer version', (b) => (b.writeUInt32LE(99, 8), b)],
    ['a damaged header', (b) => b.subarray(0, 50)],
    ['an empty file', () => Buffer.alloc(0)],
  ];
  for (const [what, damage] of damages) {
    it(`is rebuilt, not trusted, after ${what}`, () => {
      const arrays = small();
      const file = path.join(tempDir(), 'cache.bin');
      preprocessWithCache([arrays.train, arrays.test], file);
      fs.writeFileSync(file, damage(fs.readFileSync(file)));
      const again = preprocessWithCache([arrays.train, arrays.test], file);
      assert.equal(again.cache, 'rebuilt');
      checkValues(arrays, again.splits);
      assert.equal(preprocessWithCache([arrays.train, arrays.test], file).cache, 'hit');
    });
  }

  it('is rebuilt when made from other data', () => {
    const arrays = small();
    const file = path.join(tempDir(), 'cache.bin');
    preprocessWithCache([arrays.train, arrays.test], file);
    const other = takeSubset(real, 600, 100);
    other.train.images[12345] = (other.train.images[12345]! + 1) % 256;
    const again = preprocessWithCache([other.train, other.test], file);
    assert.equal(again.cache, 'rebuilt');
    checkValues(other, again.splits);
  });

  it('loads train and test onto the device from one file', () => {
    const arrays = small();
    const file = path.join(tempDir(), 'cache.bin');
    const tensorsBefore = tf.memory().numTensors;
    for (const expected of ['created', 'hit'] as const) {
      const device = loadDeviceMnist(arrays, { cacheFile: file });
      assert.equal(device.cache, expected);
      assert.deepEqual(device.train.images.shape, [600, 28, 28, 1]);
      assert.equal(device.train.images.dtype, 'float32');
      assert.equal(device.test.labels.dtype, 'int32');
      assert.deepEqual(device.test.labels.dataSync(), Int32Array.from(arrays.test.labels));
      // training images in the saved (shuffled-once) order, test images in file order
      assert.deepEqual(device.train.images.dataSync(), normalise(inSavedOrder(arrays.train).images));
      assert.deepEqual(device.train.labels.dataSync(), Int32Array.from(inSavedOrder(arrays.train).labels));
      assert.deepEqual(device.test.images.dataSync(), normalise(arrays.test.images));
      device.dispose();
    }
    assert.equal(fs.readdirSync(path.dirname(file)).length, 1, 'one cache file');
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });

  it('clears a dead writer\'s temporary file also when the cache is valid', () => {
    const arrays = small();
    const dir = tempDir();
    const file = path.join(dir, 'cache.bin');
    preprocessWithCache([arrays.train, arrays.test], file);
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    fs.writeFileSync(path.join(dir, `cache.bin.${deadPid}.k1lled00.tmp`), 'partial');
    assert.equal(preprocessWithCache([arrays.train, arrays.test], file).cache, 'hit');
    assert.deepEqual(fs.readdirSync(dir), ['cache.bin']);
  });

  it('is optional: a cache that cannot be written warns once, naming the file, and training data comes from memory', () => {
    const arrays = small();
    const blocker = path.join(tempDir(), 'not-a-folder');
    fs.writeFileSync(blocker, 'a file where the cache folder should be');
    const file = path.join(blocker, 'cache.bin');
    const warnings: string[] = [];
    const result = preprocessWithCache([arrays.train, arrays.test], file, (message) => warnings.push(message));
    assert.equal(result.cache, 'unwritable');
    checkValues(arrays, result.splits);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot write the preprocessed cache .*not-a-folder\/cache\.bin \((ENOTDIR|EEXIST)\); training from memory/);

    // a second run of the same process neither tries again nor warns again
    const again = preprocessWithCache([arrays.train, arrays.test], file, (message) => warnings.push(message));
    assert.equal(again.cache, 'unwritable');
    checkValues(arrays, again.splits);
    assert.equal(warnings.length, 1, warnings.join('\n'));
  });
});

describe('the saved order', () => {
  it('is one fixed permutation: every image once, the same for every call, not the file order', () => {
    const split = indexedSplit(1000);
    const order = indicesOfSplit(inSavedOrder(split));
    const identity = Array.from({ length: 1000 }, (_, i) => i);
    assert.notDeepEqual(order, identity);
    assert.deepEqual([...order].sort((a, b) => a - b), identity);
    assert.deepEqual(indicesOfSplit(inSavedOrder(split)), order, 'no per-call reshuffle');
    assert.deepEqual(indicesOfSplit(inSavedOrder(split, SAVED_ORDER_SEED)), order);
    assert.notDeepEqual(indicesOfSplit(inSavedOrder(split, SAVED_ORDER_SEED + 1)), order);
    const labels = Array.from(inSavedOrder(split).labels);
    assert.deepEqual(labels, order.map((i) => i % 10), 'labels travel with their images');
    assert.equal(indicesOfSplit(split)[1], 1, 'the input is left as it was');
  });
});

describe('device batches', () => {
  it('count 937 at 64 and 468 at 128 when dropping the last partial batch, 235 at 256 and 469 at 128 when keeping it', () => {
    // the original's len // b and (len - 1) // b + 1, written out for 60,000 images
    assert.equal(batchesPerEpoch(60_000, 64, true), 937);
    assert.equal(batchesPerEpoch(60_000, 128, true), 468);
    assert.equal(batchesPerEpoch(60_000, 128, false), 469);
    assert.equal(batchesPerEpoch(60_000, 256, false), 235);
    assert.equal(batchesPerEpoch(60_000, 250, true), 240);
    assert.equal(batchesPerEpoch(60_000, 250, false), 240);
    assert.throws(() => batchesPerEpoch(60_000, 0, false), /batchSize must be a positive integer/);
  });

  it('are contiguous slices of the real training set, in the stored order, the last one kept or dropped', () => {
    const tensorsBefore = tf.memory().numTensors;
    const device = loadDeviceSplit(real.train);
    for (const [batchSize, dropLast, count, last] of [[256, false, 235, 96], [128, true, 468, 128], [64, true, 937, 64]] as const) {
      const sizes: number[] = [];
      let start = 0;
      let labelsMatch = true;
      for (const { x, y } of deviceBatches(device, batchSize, dropLast)) {
        assert.deepEqual(x.shape.slice(1), [28, 28, 1]);
        sizes.push(x.shape[0]);
        if (start === 0 || sizes.length === count) {
          labelsMatch &&= Array.from(y.dataSync()).join() === Array.from(real.train.labels.subarray(start, start + x.shape[0])).join();
        }
        start += x.shape[0];
        x.dispose();
        y.dispose();
      }
      assert.equal(sizes.length, count);
      assert.ok(sizes.slice(0, -1).every((size) => size === batchSize));
      assert.equal(sizes.at(-1), last);
      assert.ok(labelsMatch, 'first and last batch hold the stored order');
    }
    device.dispose();
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });

  it('read the same order every epoch: batch i is images [b*i, b*(i+1)) of the saved order', () => {
    const split = indexedSplit(1000);
    const device = loadDeviceSplit(inSavedOrder(split));
    const saved = indicesOfSplit(inSavedOrder(split));
    const epoch = (): number[][] => {
      const seen: number[][] = [];
      for (const { x, y } of deviceBatches(device, 96, false)) {
        const indices = indicesOf(x);
        assert.deepEqual(Array.from(y.dataSync()), indices.map((i) => i % 10), 'labels travel with their images');
        seen.push(indices);
        x.dispose();
        y.dispose();
      }
      return seen;
    };
    const first = epoch();
    first.forEach((batch, i) => assert.deepEqual(batch, saved.slice(96 * i, 96 * (i + 1))));
    assert.deepEqual(epoch(), first);
    device.dispose();
  });

  it('leave the tensor count flat, also when an epoch is abandoned', () => {
    const device = loadDeviceSplit(indexedSplit(500));
    const tensorsBefore = tf.memory().numTensors;
    for (const dropLast of [false, true]) {
      for (const { x, y } of deviceBatches(device, 64, dropLast)) {
        x.dispose();
        y.dispose();
      }
    }
    for (const { x, y } of deviceBatches(device, 64, false)) {
      x.dispose();
      y.dispose();
      break;
    }
    assert.equal(tf.memory().numTensors, tensorsBefore);
    device.dispose();
  });
});
