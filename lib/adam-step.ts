/**
 * Adam's update of one variable as a single kernel, for the backends that register one (the wasm
 * backend's tuned set: lib/wasm/kernels.ts, native/train_kernels.c `adam_step`). Composed from
 * TensorFlow.js ops, the update is a dozen kernels per variable, each a pass over memory and a
 * dispatch: about a hundred kernel calls per training step for a four-layer net, more than the
 * forward and backward passes together. The kernel does the same float32 operations in the same
 * order, so both give the same bits (test/adam-step.test.ts).
 *
 * Inputs: param, grad, m, v (same shape, float32) and c1 = 1 - beta1^t, c2 = 1 - beta2^t (float32
 * scalars). Outputs: new param, new m, new v.
 */
import * as tf from '@tensorflow/tfjs-core';

export const ADAM_STEP = 'MnistSpeedrunAdamStep';

/** The kernel's attributes: Adam's hyperparameters and this step's learning rate. */
export interface AdamStepAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  [key: string]: number;
}

/** Whether the active backend has the one-kernel update. */
export function hasAdamStep(): boolean {
  return tf.getKernel(ADAM_STEP, tf.getBackend()) !== undefined;
}

/** One variable's update in one kernel: [param', m', v']. Needs hasAdamStep(). */
export function adamStep(
  param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, c1: tf.Scalar, c2: tf.Scalar, attrs: AdamStepAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const outputs = tf.engine().runKernel(ADAM_STEP, { param, grad, m, v, c1, c2 }, attrs) as tf.Tensor[];
  return [outputs[0]!, outputs[1]!, outputs[2]!];
}

// #region adam-update
/** The same update composed from TensorFlow.js ops, in TensorFlow.js's AdamOptimizer's order. */
export function adamStepComposed(
  param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, c1: tf.Scalar, c2: tf.Scalar, attrs: AdamStepAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const { beta1, beta2, epsilon, learningRate } = attrs;
  const m1 = tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1));
  const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2));
  const mHat = tf.div(m1, c1);
  const vHat = tf.div(v1, c2);
  const param1 = tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon)), -learningRate), param);
  return [param1, m1, v1];
}
// #endregion adam-update
