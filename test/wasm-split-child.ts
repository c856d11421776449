/**
 * Child process of test/wasm-helper.test.ts: observes the native kernels' batch splits
 * (lib/wasm/native.ts `observeSplits`) while a batch of 6 images goes through a convolution, then
 * stops observing and runs it once more. Prints, as one JSON line, what was observed before and
 * after the stop. The helper thread starts asynchronously: the convolution is repeated, with
 * pauses, until 5 splits have been seen or 10 s have passed. Then, observing again, three products
 * of each of two sizes: the nets' last layer (256 x 256 by 256 x 10) and a first fc layer (256 x 400
 * by 400 x 256), and how many of each were split. Last, a batch of 64 through a convolution, a
 * pool and both their input gradients (kernels run in chunks that both threads take), by the
 * Winograd kernels of either tile and by the direct ones, and the first layer with its pool and ReLU in one kernel
 * (lib/input-conv.ts): the SHA-256 of the outputs' bytes, and the splits seen. Must end by itself.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import '../lib/gradients';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { inputConvPoolRelu } from '../lib/input-conv';
import { observeSplits, useWinograd, useWinogradTile, type SplitTiming, type WinogradTile } from '../lib/wasm/native';
import { setupWasm } from '../lib/wasm/setup';

await setupWasm({ threads: Number(process.env['CHILD_THREADS']) });
const x = tf.tensor4d(Float32Array.from({ length: 6 * 12 * 12 }, (_, i) => Math.sin(i)), [6, 12, 12, 1]);
const w = tf.tensor4d(Float32Array.from({ length: 9 * 8 }, (_, i) => Math.cos(i)), [3, 3, 1, 8]);
const convolve = async (): Promise<void> => {
  const y = tf.conv2d(x, w, 1, 'valid');
  await y.data();
  y.dispose();
};
const seen: SplitTiming[] = [];
const stop = observeSplits(tf.backend() as BackendWasm, (timing) => seen.push(timing));
const deadline = performance.now() + 10_000;
while (seen.length < 5 && performance.now() < deadline) {
  await convolve();
  await new Promise((resolve) => setTimeout(resolve, 20));
}
stop();
const before = seen.length;
await convolve();

const splitProducts = async (m: number, k: number, n: number): Promise<number> => {
  // single matrices as the nets' layers pass them ([1, m, k]), the shape the native product takes
  const a = tf.tensor3d(Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)), [1, m, k]);
  const b = tf.tensor3d(Float32Array.from({ length: k * n }, (_, i) => Math.cos(i)), [1, k, n]);
  const products: SplitTiming[] = [];
  const stopProducts = observeSplits(tf.backend() as BackendWasm, (timing) => products.push(timing));
  for (let i = 0; i < 3; i++) {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  }
  stopProducts();
  tf.dispose([a, b]);
  return products.filter((t) => t.kernel === 'matmul').length;
};
const products = { lastLayer: await splitProducts(256, 256, 10), firstFc: await splitProducts(256, 400, 256) };

// 64 images, 8 channels in (the native input gradient takes multiples of 4), 16 out: about 100
// MFLOP a convolution, long enough for the helper to join in
const x64 = tf.tensor4d(Float32Array.from({ length: 64 * 28 * 28 * 8 }, (_, i) => Math.sin(0.37 * i)), [64, 28, 28, 8]);
const w64 = tf.tensor4d(Float32Array.from({ length: 9 * 8 * 16 }, (_, i) => Math.cos(0.21 * i)), [3, 3, 8, 16]);
const chunked: SplitTiming[] = [];
const stopChunked = observeSplits(tf.backend() as BackendWasm, (timing) => chunked.push(timing));
const forward = (input: tf.Tensor4D): tf.Tensor4D => tf.maxPool(tf.conv2d(input, w64, 1, 'valid'), 2, 2, 'valid');
const hash = async (t: tf.Tensor): Promise<string> => createHash('sha256').update(new Uint8Array((await t.data()).buffer)).digest('hex');
// the 3x3 convolution three ways: Winograd's kernels by 4x4 tiles (the default) and by 2x2 tiles, then the direct ones
const outputsOf = async (winograd: WinogradTile | null): Promise<{ pooled: string; dx: string }> => {
  useWinograd(tf.backend() as BackendWasm, winograd !== null);
  useWinogradTile(tf.backend() as BackendWasm, winograd ?? 4);
  const pooled = forward(x64);
  const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.square(forward(input as tf.Tensor4D))))(x64);
  const hashes = { pooled: await hash(pooled), dx: await hash(dx) };
  tf.dispose([pooled, dx]);
  return hashes;
};
// the first layer with its pool and ReLU (lib/input-conv.ts): its forward runs in chunks too
const images = tf.tensor4d(Float32Array.from({ length: 64 * 28 * 28 }, (_, i) => Math.sin(0.11 * i)), [64, 28, 28, 1]);
const firstFilter = tf.tensor4d(Float32Array.from({ length: 25 * 24 }, (_, i) => Math.cos(0.3 * i)), [5, 5, 1, 24]);
const firstLayer = inputConvPoolRelu(images, firstFilter, tf.zeros([24]), 'before-relu');
const outputs = { winograd4: await outputsOf(4), winograd2: await outputsOf(2), direct: await outputsOf(null), firstLayer: await hash(firstLayer) };
stopChunked();
console.log(JSON.stringify({ seen: seen.slice(0, before), afterStop: seen.length - before, products, outputs, chunked }));
