/**
 * Watches the max pools of a real backward pass on the active backend: while `backward` runs, the
 * registered MaxPool gradient is wrapped so that each pool records its upstream gradient (the
 * gradient at the pool's output) and its routing (where the backend's MaxPoolGrad kernel sends an
 * upstream gradient of ones, i.e. which element of each window it chose), then calls the original
 * gradient unchanged. The original registration is restored afterwards, even on error.
 */
import * as tf from '@tensorflow/tfjs-core';

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
  try {
    return { result: backward(), pools };
  } finally {
    tf.registerGradient(original);
  }
}
