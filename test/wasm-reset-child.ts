/**
 * Child process of test/wasm-threads.test.ts: the threaded wasm backend created again after
 * `tf.engine().reset()`, as TF.js's own op tests do between suites (the engine is process-wide).
 * Prints one JSON line: for each round, whether `tf.setBackend('wasm')` succeeded, the XNNPACK
 * threads it got (its pool; the native kernels' helper thread is the other), and the relative error of a small conv net's gradients against the cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../lib/gradients';
import { setupWasm } from '../lib/wasm/setup';
import { activeWasmThreads } from '../lib/wasm/threads';
import { relativeError } from './relative-error';

const threads = Number(process.env['CHILD_THREADS']);
const rounds = Number(process.env['CHILD_ROUNDS']);

/** Gradients of a conv net that runs every native kernel (split over the batch when threaded). */
async function gradients(): Promise<Float32Array[]> {
  const x = tf.tensor4d(Float32Array.from({ length: 4 * 12 * 12 }, (_, i) => Math.sin(i)), [4, 12, 12, 1]);
  const w1 = tf.tensor4d(Float32Array.from({ length: 9 * 8 }, (_, i) => Math.cos(i)), [3, 3, 1, 8]);
  const w2 = tf.tensor4d(Float32Array.from({ length: 9 * 8 * 16 }, (_, i) => Math.cos(0.3 * i)), [3, 3, 8, 16]);
  const w3 = tf.tensor2d(Float32Array.from({ length: 256 * 10 }, (_, i) => Math.sin(0.7 * i)), [256, 10]);
  const loss = (f1: tf.Tensor, f2: tf.Tensor, f3: tf.Tensor): tf.Scalar => {
    const h = tf.relu(tf.conv2d(x, f1 as tf.Tensor4D, 1, 'valid'));
    const pooled = tf.maxPool(tf.conv2d(h, f2 as tf.Tensor4D, 1, 'valid'), 2, 2, 'valid'); // [4, 4, 4, 16]
    return tf.sum(tf.square(tf.matMul(tf.reshape(pooled, [4, 256]), f3 as tf.Tensor2D)));
  };
  const grads = tf.grads(loss)([w1, w2, w3]);
  const values = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
  tf.dispose([x, w1, w2, w3, ...grads]);
  return values;
}

const reference = await (async () => {
  await tf.setBackend('cpu');
  return gradients();
})();

await setupWasm({ threads });
const results: Array<{ created: boolean; threads: number; error: number }> = [];
for (let round = 0; round < rounds; round++) {
  if (round > 0) tf.engine().reset();
  const created = await tf.setBackend('wasm');
  if (!created) {
    results.push({ created, threads: 0, error: Number.POSITIVE_INFINITY });
    break;
  }
  const values = await gradients();
  results.push({ created, threads: activeWasmThreads(), error: Math.max(...values.map((g, i) => relativeError(g, reference[i]!))) });
}
console.log(JSON.stringify(results));
