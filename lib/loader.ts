/**
 * The ordinary data path of steps 01-03, written the way a user of a Dataset/DataLoader writes it
 * (torchvision's MNIST + ToTensor + Normalize, then torch.utils.data.DataLoader): every access
 * converts one sample, and every batch is a fresh stack of samples turned into tensors. This is
 * the cost step 04 removes; nothing here is slowed on purpose.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkBatchSize, normalisePixel, type Batch, type Split } from './data';
import { IMAGE_SIZE, PIXELS_PER_IMAGE } from './idx';
import { makeRng, permutation, type Rng } from './random';

/** Anything indexable sample by sample. */
export interface Dataset<T> {
  readonly length: number;
  getItem(index: number): T;
}

export interface Sample {
  image: Float32Array; // [28 * 28], normalised
  label: number;
}

/** MNIST samples, each normalised when it is read (as a torchvision transform runs per __getitem__). */
export class MnistSampleDataset implements Dataset<Sample> {
  constructor(private readonly split: Split) {}

  get length(): number {
    return this.split.count;
  }

  getItem(index: number): Sample {
    if (!Number.isInteger(index) || index < 0 || index >= this.split.count) {
      throw new RangeError(`sample index must be an integer from 0 to ${this.split.count - 1}, got ${index}`);
    }
    const pixels = this.split.images.subarray(index * PIXELS_PER_IMAGE, (index + 1) * PIXELS_PER_IMAGE);
    const image = new Float32Array(PIXELS_PER_IMAGE);
    for (let p = 0; p < PIXELS_PER_IMAGE; p++) image[p] = normalisePixel(pixels[p]!);
    return { image, label: this.split.labels[index]! };
  }
}

export interface DataLoaderOptions {
  batchSize: number;
  /** Draw a new order for every pass over the data, as DataLoader(shuffle=True) does. */
  shuffle: boolean;
  /** Seeds the orders: the first pass uses permutation(n, makeRng(seed)). */
  seed: number;
  /** Leave out the last partial batch, as DataLoader(drop_last=True) does (default false: kept). */
  dropLast?: boolean;
}

/**
 * Batches of samples; iterate once per epoch. Keeps the last partial batch unless `dropLast`.
 * Each batch's tensors are the consumer's to dispose.
 */
export class DataLoader implements Iterable<Batch> {
  private readonly rng: Rng;

  constructor(
    private readonly dataset: Dataset<Sample>,
    private readonly options: DataLoaderOptions,
  ) {
    checkBatchSize(options.batchSize);
    this.rng = makeRng(options.seed);
  }

  get batchesPerEpoch(): number {
    const exact = this.dataset.length / this.options.batchSize;
    return this.options.dropLast ? Math.floor(exact) : Math.ceil(exact);
  }

  // #region per-sample-batches
  *[Symbol.iterator](): Iterator<Batch> {
    const count = this.dataset.length;
    const order = this.options.shuffle ? permutation(count, this.rng) : null;
    for (let b = 0; b < this.batchesPerEpoch; b++) {
      const start = b * this.options.batchSize;
      const size = Math.min(this.options.batchSize, count - start);
      const images = new Float32Array(size * PIXELS_PER_IMAGE);
      const labels = new Int32Array(size);
      for (let i = 0; i < size; i++) {
        const sample = this.dataset.getItem(order === null ? start + i : order[start + i]!);
        images.set(sample.image, i * PIXELS_PER_IMAGE);
        labels[i] = sample.label;
      }
      yield {
        x: tf.tensor4d(images, [size, IMAGE_SIZE, IMAGE_SIZE, 1], 'float32'),
        y: tf.tensor1d(labels, 'int32'),
      };
    }
  }
  // #endregion per-sample-batches
}
