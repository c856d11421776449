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
// Two conv layers, so that every native kernel runs (split over the batch when threaded): forward
// conv, 1-channel and many-channel filter gradients, input gradient, 2x2 max-pool gradient, matMul.
const x = tf.tensor4d(Float32Array.from({ length: 5 * 12 * 12 }, (_, i) => Math.sin(i)), [5, 12, 12, 1]);
const w1 = tf.tensor4d(Float32Array.from({ length: 9 * 8 }, (_, i) => Math.cos(i)), [3, 3, 1, 8]);
const w2 = tf.tensor4d(Float32Array.from({ length: 9 * 8 * 16 }, (_, i) => Math.cos(0.3 * i)), [3, 3, 8, 16]);
const w3 = tf.tensor2d(Float32Array.from({ length: 256 * 20 }, (_, i) => Math.sin(0.7 * i)), [256, 20]);
const loss = (f1: tf.Tensor, f2: tf.Tensor, f3: tf.Tensor): tf.Scalar => {
  const h = tf.relu(tf.conv2d(x, f1 as tf.Tensor4D, 1, 'valid'));
  const pooled = tf.maxPool(tf.conv2d(h, f2 as tf.Tensor4D, 1, 'valid'), 2, 2, 'valid'); // [5, 4, 4, 16]
  return tf.sum(tf.square(tf.matMul(tf.reshape(pooled, [5, 256]), f3 as tf.Tensor2D)));
};
const grads = tf.grads(loss)([w1, w2, w3]);
const values = await Promise.all(grads.map(async (g) => Array.from(await g.data())));
// a helper thread that failed must have had time to say so (its 'error' event comes on the loop)
const lingerMs = Number(process.env['CHILD_LINGER_MS'] ?? 0);
if (lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, lingerMs));
console.log(JSON.stringify({
  threads: report.threads,
  xnnpackThreads: report.xnnpackThreads,
  grad: values.flat(),
  workerGlobal: typeof (globalThis as { Worker?: unknown }).Worker,
  listenersAdded: listenerCount() - listenersBefore,
}));
