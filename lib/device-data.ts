/**
 * The device data path of step 04 on, as the original built it: the training set is permuted ONCE,
 * with a fixed seed, when the preprocessed file is written; both splits then live on the device as
 * one normalised tensor each, and every epoch reads the training tensor in that same saved order
 * as contiguous slices `data[b*i : b*(i+1)]`: no per-epoch reshuffle, no gather.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkBatchSize, selectSamples, type Batch, type MnistArrays, type Split } from './data';
import { IMAGE_SIZE } from './idx';
import { preprocessWithCache, type CacheOutcome, type CacheWarning, type PreprocessedSplit } from './preprocessed-cache';
import { makeRng, permutation } from './random';

/**
 * The seed of the one permutation applied when the dataset is saved. Fixed, like the original's
 * saved tensors: every run of every seed reads the same order (the run seed changes init only).
 */
export const SAVED_ORDER_SEED = 0;

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
  /** Told once when the cache file cannot be written (training goes on from memory). */
  onCacheWarning?: CacheWarning;
}

/** `split` in the saved order: permuted once with `seed` (a copy; the input is left as it is). */
export function inSavedOrder(split: Split, seed: number = SAVED_ORDER_SEED): Split {
  return selectSamples(split, permutation(split.count, makeRng(seed)));
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
 * Step 04's "saved once, loaded once": the training split in its saved (shuffled-once) order and
 * the test split in file order, normalised, in ONE cache file read in one go and put on the
 * device. The caller disposes the result.
 */
export function loadDeviceMnist(arrays: MnistArrays, options: DeviceLoadOptions = {}): DeviceMnist {
  const { splits, cache } = preprocessWithCache([inSavedOrder(arrays.train), arrays.test], options.cacheFile, options.onCacheWarning);
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

/** One split on the device, in the order given, normalised in memory. The caller disposes it. */
export function loadDeviceSplit(split: Split): DeviceSplit {
  return toDevice(preprocessWithCache([split], undefined).splits[0]!);
}

/** Batches per epoch: `count // b` when the last partial batch is dropped, else `ceil(count / b)`. */
export function batchesPerEpoch(count: number, batchSize: number, dropLast: boolean): number {
  checkBatchSize(batchSize);
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/**
 * The batches of one epoch: contiguous slices of the device tensors, in the order they were
 * saved. With `dropLast` the last partial batch is left out (60,000 at 128 -> 468 batches),
 * otherwise kept (60,000 at 256 -> 235, the last of 96). Each batch is the consumer's to dispose.
 */
// #region device-batches
export function* deviceBatches(data: DeviceSplit, batchSize: number, dropLast: boolean): Generator<Batch> {
  const count = batchesPerEpoch(data.count, batchSize, dropLast);
  for (let i = 0; i < count; i++) {
    const start = i * batchSize;
    const size = Math.min(batchSize, data.count - start);
    const x = tf.slice(data.images, [start, 0, 0, 0], [size, -1, -1, -1]);
    const y = tf.slice(data.labels, [start], [size]);
    yield { x, y };
  }
}
// #endregion device-batches
