/**
 * Child process of test/wasm-helper.test.ts: re-creates the threaded wasm backend several times
 * (other options, then an engine reset) and prints, as one JSON line, how many OS threads the
 * process has after each step. Linux only (/proc/self/task). Must end by itself.
 */
import { readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '../lib/gradients';
import { setupWasm } from '../lib/wasm/setup';

const osThreads = (): number => readdirSync('/proc/self/task').length;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A conv gradient, so that the native kernels (and their helper thread) run. */
async function train(): Promise<void> {
  const x = tf.tensor4d(Float32Array.from({ length: 4 * 10 * 10 }, (_, i) => Math.sin(i)), [4, 10, 10, 1]);
  const w = tf.tensor4d(Float32Array.from({ length: 9 * 8 }, (_, i) => Math.cos(i)), [3, 3, 1, 8]);
  const [g] = tf.grads((f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, 1, 'valid'))))([w]);
  await g!.data();
  tf.dispose([x, w, g!]);
  await pause(300); // let the helper thread finish starting
}

/** Threads once terminated workers have had time to go (they end asynchronously). */
async function settledThreads(): Promise<number> {
  let count = osThreads();
  for (let i = 0; i < 20; i++) {
    await pause(100);
    count = Math.min(count, osThreads());
  }
  return count;
}

await setupWasm({ threads: 1 });
await train();
const stock = await settledThreads();
const afterSwitch: number[] = [];
for (let cycle = 0; cycle < 3; cycle++) {
  await setupWasm({ threads: 2 });
  await train();
  await setupWasm({ threads: 1 });
  afterSwitch.push(await settledThreads());
}
const afterReset: number[] = [];
for (let cycle = 0; cycle < 3; cycle++) {
  await setupWasm({ threads: 2 });
  await train();
  tf.engine().reset();
  afterReset.push(await settledThreads());
}
console.log(JSON.stringify({ stock, afterSwitch, afterReset }));
