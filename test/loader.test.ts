import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadMnist, takeSubset, type Batch, type Split } from '../lib/data';
import { deviceBatches, loadDeviceSplit } from '../lib/device-data';
import { DataLoader, MnistSampleDataset } from '../lib/loader';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const mnistDir = path.resolve(repoRoot, process.env.MNIST_DIR ?? '../shared/data/mnist');

let split: Split;

before(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  split = takeSubset(await loadMnist({ dir: mnistDir, env: {} }), 1000, 0).train;
});

/** Reads every batch back (and disposes it): the values and labels of one epoch, in order. */
function collect(batches: Iterable<Batch>): { sizes: number[]; x: number[]; y: number[] } {
  const out = { sizes: [] as number[], x: [] as number[], y: [] as number[] };
  for (const { x, y } of batches) {
    assert.deepEqual(x.shape.slice(1), [28, 28, 1]);
    assert.equal(y.dtype, 'int32');
    out.sizes.push(x.shape[0]);
    out.x.push(...x.dataSync());
    out.y.push(...y.dataSync());
    x.dispose();
    y.dispose();
  }
  return out;
}

describe('MnistSampleDataset', () => {
  it('normalises one sample per access, from its raw pixels', () => {
    const dataset = new MnistSampleDataset(split);
    assert.equal(dataset.length, 1000);
    const index = 321;
    const sample = dataset.getItem(index);
    assert.equal(sample.label, split.labels[index]);
    assert.equal(sample.image.length, 784);
    for (let p = 0; p < 784; p++) {
      const expected = (split.images[index * 784 + p]! / 255 - 0.1307) / 0.3081;
      assert.ok(Math.abs(sample.image[p]! - expected) < 1e-6, `pixel ${p}`);
    }
    assert.notEqual(dataset.getItem(index).image, sample.image, 'a fresh array per access');
    assert.throws(() => dataset.getItem(1000), /sample index must be an integer from 0 to 999/);
  });
});

describe('DataLoader', () => {
  it('stacks samples into batches, keeping the last partial batch, in file order without shuffling', () => {
    const dataset = new MnistSampleDataset(split);
    const loader = new DataLoader(dataset, { batchSize: 64, shuffle: false, seed: 0 });
    assert.equal(loader.batchesPerEpoch, 16);
    const epoch = collect(loader);
    assert.deepEqual(epoch.sizes, [...new Array<number>(15).fill(64), 1000 - 15 * 64]);
    assert.deepEqual(epoch.y, Array.from(split.labels));
    assert.deepEqual(epoch.x.slice(784 * 999), Array.from(dataset.getItem(999).image));
  });

  it('draws a new seeded order each epoch, each sample once', () => {
    const dataset = new MnistSampleDataset(split);
    const epochs = (seed: number): number[][] => {
      const loader = new DataLoader(dataset, { batchSize: 100, shuffle: true, seed });
      return [collect(loader).y, collect(loader).y];
    };
    const [first, second] = epochs(5);
    assert.notDeepEqual(first, Array.from(split.labels));
    assert.notDeepEqual(first, second);
    const histogram = (labels: number[]): number[] => labels.reduce((h, l) => (h[l]! += 1, h), new Array<number>(10).fill(0));
    assert.deepEqual(histogram(first!), histogram(Array.from(split.labels)));
    assert.deepEqual(epochs(5), [first, second]);
    assert.notDeepEqual(epochs(6)[0], first);
  });

  it('gives the same batches as the device path when it does not reshuffle, dropping the last or not', () => {
    const dataset = new MnistSampleDataset(split);
    const device = loadDeviceSplit(split);
    for (const dropLast of [false, true]) {
      const perSample = collect(new DataLoader(dataset, { batchSize: 128, shuffle: false, seed: 0, dropLast }));
      const onDevice = collect(deviceBatches(device, 128, dropLast));
      // 1,000 images: 7 full batches of 128 and one of 104, which drop-last leaves out
      assert.deepEqual(perSample.sizes, dropLast ? [128, 128, 128, 128, 128, 128, 128] : [128, 128, 128, 128, 128, 128, 128, 104]);
      assert.deepEqual(perSample.sizes, onDevice.sizes);
      assert.deepEqual(perSample.y, onDevice.y);
      assert.deepEqual(perSample.x, onDevice.x);
    }
    device.dispose();
  });

  it('drops the last partial batch of every shuffled epoch when asked', () => {
    const loader = new DataLoader(new MnistSampleDataset(split), { batchSize: 300, shuffle: true, seed: 3, dropLast: true });
    assert.equal(loader.batchesPerEpoch, 3);
    for (let epoch = 0; epoch < 2; epoch++) {
      const sizes: number[] = [];
      for (const { x, y } of loader) {
        sizes.push(x.shape[0]);
        x.dispose();
        y.dispose();
      }
      assert.deepEqual(sizes, [300, 300, 300]);
    }
  });

  it('leaves the tensor count flat across epochs', () => {
    const loader = new DataLoader(new MnistSampleDataset(split), { batchSize: 256, shuffle: true, seed: 1 });
    const tensorsBefore = tf.memory().numTensors;
    for (let epoch = 0; epoch < 3; epoch++) {
      for (const { x, y } of loader) {
        x.dispose();
        y.dispose();
      }
    }
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });

  it('refuses a batch size that is not a positive integer', () => {
    const dataset = new MnistSampleDataset(split);
    for (const batchSize of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new DataLoader(dataset, { batchSize, shuffle: false, seed: 0 }), /batchSize must be a positive integer/);
    }
  });
});
