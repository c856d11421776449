/** A split whose images carry their own index, so any reordering of them can be read back. */
import * as tf from '@tensorflow/tfjs-core';
import { normalisePixel, type Split } from '../lib/data';

/** Image i carries i in its first two pixels (low byte, high byte); its label is i % 10. */
export function indexedSplit(count: number): Split {
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    images[i * 784] = i & 255;
    images[i * 784 + 1] = i >> 8;
    labels[i] = i % 10;
  }
  return { images, labels, count };
}

const byteOfNormalised = new Map<number, number>(Array.from({ length: 256 }, (_, b) => [normalisePixel(b), b]));

/** The indices carried by the images of a normalised batch [B, 28, 28, 1]. */
export function indicesOf(x: tf.Tensor4D): number[] {
  const values = x.dataSync();
  const out: number[] = [];
  for (let i = 0; i < x.shape[0]; i++) out.push(byteOfNormalised.get(values[i * 784]!)! + 256 * byteOfNormalised.get(values[i * 784 + 1]!)!);
  return out;
}

/** The indices carried by a raw split's images, in order. */
export function indicesOfSplit(split: Split): number[] {
  return Array.from({ length: split.count }, (_, i) => split.images[i * 784]! + 256 * split.images[i * 784 + 1]!);
}
