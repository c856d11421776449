/**
 * Child process of test/wasm-helper.test.ts: observes the native kernels' batch splits
 * (lib/wasm/native.ts `observeSplits`) while a batch of 6 images goes through a convolution, then
 * stops observing and runs it once more. Prints, as one JSON line, what was observed before and
 * after the stop. The helper thread starts asynchronously: the convolution is repeated, with
 * pauses, until 5 splits have been seen or 10 s have passed. Must end by itself.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { observeSplits, type SplitTiming } from '../lib/wasm/native';
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
console.log(JSON.stringify({ seen: seen.slice(0, before), afterStop: seen.length - before }));
