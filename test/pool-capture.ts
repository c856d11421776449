/**
 * Watches the max pools of a real backward pass on the active backend: while `backward` runs, the
 * registered MaxPool gradient is wrapped so that each pool records its upstream gradient (the
 * gradient at the pool's output) and its routing (where the backend's MaxPoolGrad kernel sends an
 * upstream gradient of ones, i.e. which element of each window it chose), then calls the original
 * gradient unchanged. The original registration is restored afterwards, even on error.
 *
 * A backend that fuses each pool with its ReLU (lib/pool-relu.ts), or a conv layer with its pool
 * and ReLU (lib/input-conv.ts, lib/conv-pool-relu.ts), runs no MaxPool op to watch, so its fused
 * kernels are set aside while `backward` runs: the composed ops then run, which give the fused
 * kernels' values and routing (test/pool-relu.test.ts, test/input-conv.test.ts,
 * test/conv-pool-relu.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { CONV_POOL_RELU_GRAD, POOL_RELU_WHERE } from '../lib/conv-pool-relu';
import { INPUT_CONV_POOL_RELU, INPUT_CONV_POOL_RELU_GRAD } from '../lib/input-conv';
import { POOL_RELU, POOL_RELU_GRAD } from '../lib/pool-relu';

export interface CapturedPool {
  /** The pool's input shape (NHWC). */
  inputShape: number[];
  /** Gradient at the pool's output (NHWC). */
  upstream: Float32Array;
  /** Input gradient for an upstream gradient of ones (NHWC, shape `inputShape`). */
  routing: Float32Array;
}

export function capturePoolGradients<T>(backward: () => T): { result: T; pools: CapturedPool[] } {
  const original = tf.getGradient('MaxPool');
  if (!original?.gradFunc) throw new Error('no MaxPool gradient registered: import lib/gradients first');
  const originalGrad = original.gradFunc;
  const pools: CapturedPool[] = [];
  tf.registerGradient({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const upstream = dy as tf.Tensor;
      const routing = tf.tidy(() => originalGrad(tf.onesLike(upstream), saved, attrs)['x']!());
      pools.push({
        inputShape: [...saved[0]!.shape],
        upstream: Float32Array.from(upstream.dataSync()),
        routing: Float32Array.from(routing.dataSync()),
      });
      routing.dispose();
      return originalGrad(dy, saved, attrs);
    },
  });
  const fused = [POOL_RELU, POOL_RELU_GRAD, INPUT_CONV_POOL_RELU, INPUT_CONV_POOL_RELU_GRAD, POOL_RELU_WHERE, CONV_POOL_RELU_GRAD].map((name) => tf.getKernel(name, tf.getBackend())).filter((k) => k !== undefined);
  for (const kernel of fused) tf.unregisterKernel(kernel.kernelName, kernel.backendName);
  try {
    return { result: backward(), pools };
  } finally {
    tf.registerGradient(original);
    for (const kernel of fused) tf.registerKernel(kernel);
  }
}
