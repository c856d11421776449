/**
 * The device data path of step 04 on: each split as one normalised tensor on the device, batches
 * cut out of it with `tf.slice`, or with `tf.gather` through a seeded permutation when an epoch is
 * shuffled. The tensors come from the one-file preprocessed cache when a cache file is given.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkBatchSize, epochOrder, type Batch, type MnistArrays, type Split } from './data';
import { IMAGE_SIZE } from './idx';
import { preprocessWithCache, type CacheOutcome, type PreprocessedSplit } from './preprocessed-cache';
/** A split living on the device as two tensors; `dispose()` frees both. */
export interface DeviceSplit {
  images: tf.Tensor4D; // [N, 28, 28, 1] normalised
  labels: tf.Tensor1D; // [N] int32
  count: number;
  dispose(): void;
}


export interface DeviceLoadOptions {
  /** The one-file preprocessed cache; omitted: normalise in memory, write nothing. */
  cacheFile?: string;
}

/** Device tensors for preprocessed data; the caller disposes them through `dispose()`. */
export function toDevice(split: PreprocessedSplit): DeviceSplit {
  const images = tf.tensor4d(split.images, [split.count, IMAGE_SIZE, IMAGE_SIZE, 1], 'float32');
  const labels = tf.tensor1d(split.labels, 'int32');
  return {
    images,
    labels,
    count: split.count,
    dispose: () => {
      images.dispose();
      labels.dispose();
    },
  };
}

export interface DeviceMnist {
  train: DeviceSplit;
  test: DeviceSplit;
  cache: CacheOutcome;
  dispose(): void;
}

/**
 * Step 04's "saved once, loaded once": train and test, normalised, in ONE cache file read in one
 * go and put on the device. The caller disposes the result.
 */
export function loadDeviceMnist(arrays: MnistArrays, options: DeviceLoadOptions = {}): DeviceMnist {
  const { splits, cache } = preprocessWithCache([arrays.train, arrays.test], options.cacheFile);
  const train = toDevice(splits[0]!);
  const test = toDevice(splits[1]!);
  return {
    train,
    test,
    cache,
    dispose: () => {
      train.dispose();
      test.dispose();
    },
  };
}

/** One split on the device, through its own cache file when `cacheFile` is given. The caller disposes it. */
export function loadDeviceSplit(split: Split, options: DeviceLoadOptions = {}): DeviceSplit {
  return toDevice(preprocessWithCache([split], options.cacheFile).splits[0]!);
}

/**
 * The batches of one epoch, cut from the device tensors: `tf.slice` in file order, or, with a
 * shuffle seed, `tf.gather` through a seeded permutation held on the device. Keeps the last
 * partial batch, as PyTorch does (60,000 at 256 -> 235 batches). Each batch is the consumer's to
 * dispose; the permutation is freed when the generator finishes or is abandoned with `return()`.
 */
export function* deviceBatches(data: DeviceSplit, batchSize: number, shuffleSeed: number | null): Generator<Batch> {
  checkBatchSize(batchSize);
  const order = epochOrder(data.count, shuffleSeed);
  const orderOnDevice = order === null ? null : tf.tensor1d(order, 'int32');
  try {
    for (let start = 0; start < data.count; start += batchSize) {
      const size = Math.min(batchSize, data.count - start);
      const [x, y] = tf.tidy((): [tf.Tensor4D, tf.Tensor1D] => {
        if (orderOnDevice === null) {
          return [tf.slice(data.images, [start, 0, 0, 0], [size, -1, -1, -1]), tf.slice(data.labels, [start], [size])];
        }
        const indices = tf.slice(orderOnDevice, [start], [size]);
        return [tf.gather(data.images, indices), tf.gather(data.labels, indices)];
      });
      yield { x, y };
    }
  } finally {
    orderOnDevice?.dispose();
  }
}
