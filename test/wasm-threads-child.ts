/**
 * Child process of test/wasm-threads.test.ts (the wasm backend is process-wide, so each thread
 * count gets a process of its own): prints, as one JSON line, the thread count, the gradients of
 * a small conv net, and what the engine left on the process. Must end by itself.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../lib/gradients';
import { setupWasm } from '../lib/wasm/setup';

const listenerCount = (): number => process.listeners('uncaughtException').length + process.listeners('unhandledRejection').length;
const listenersBefore = listenerCount();
const report = await setupWasm({ threads: Number(process.env['CHILD_THREADS']) });
const x = tf.tensor4d(Float32Array.from({ length: 4 * 12 * 12 }, (_, i) => Math.sin(i)), [4, 12, 12, 1]);
const w = tf.tensor4d(Float32Array.from({ length: 9 * 8 }, (_, i) => Math.cos(i)), [3, 3, 1, 8]);
const grad = tf.grad((f: tf.Tensor) => tf.sum(tf.square(tf.maxPool(tf.conv2d(x, f as tf.Tensor4D, 1, 'valid'), 2, 2, 'valid'))))(w);
console.log(JSON.stringify({
  threads: report.threads,
  grad: Array.from(await grad.data()),
  workerGlobal: typeof (globalThis as { Worker?: unknown }).Worker,
  listenersAdded: listenerCount() - listenersBefore,
}));
