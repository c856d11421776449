/**
 * Adadelta's update of one variable as a single kernel, for the backends that register one (the
 * wasm backend's tuned set: lib/wasm/kernels.ts, native/train_kernels.c `adadelta_step`). Composed
 * from TensorFlow.js ops, the update is fourteen kernels per variable, each a pass over memory and
 * a dispatch. The kernel does the same float32 operations in the same order, so both give the same
 * bits (test/adadelta-step.test.ts). The order is PyTorch's (lib/optimizer.ts says why it is not
 * TensorFlow.js's AdadeltaOptimizer).
 *
 * Inputs: param, grad, squareAvg (E[g^2]) and accDelta (E[dx^2]), one shape, float32. Outputs:
 * new param, new squareAvg, new accDelta.
 */
import * as tf from '@tensorflow/tfjs-core';

export const ADADELTA_STEP = 'MnistSpeedrunAdadeltaStep';

/** The kernel's attributes: Adadelta's hyperparameters and this step's learning rate. */
export interface AdadeltaStepAttrs {
  rho: number;
  epsilon: number;
  learningRate: number;
  [key: string]: number;
}

/** Whether the active backend has the one-kernel update. */
export function hasAdadeltaStep(): boolean {
  return tf.getKernel(ADADELTA_STEP, tf.getBackend()) !== undefined;
}

/** One variable's update in one kernel: [param', squareAvg', accDelta']. Needs hasAdadeltaStep(). */
export function adadeltaStep(
  param: tf.Tensor, grad: tf.Tensor, squareAvg: tf.Tensor, accDelta: tf.Tensor, attrs: AdadeltaStepAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const outputs = tf.engine().runKernel(ADADELTA_STEP, { param, grad, squareAvg, accDelta }, attrs) as tf.Tensor[];
  return [outputs[0]!, outputs[1]!, outputs[2]!];
}

// #region adadelta-update
/** The same update composed from TensorFlow.js ops, in PyTorch's order. */
export function adadeltaStepComposed(
  param: tf.Tensor, grad: tf.Tensor, squareAvg: tf.Tensor, accDelta: tf.Tensor, attrs: AdadeltaStepAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const { rho, epsilon, learningRate } = attrs;
  // E[g^2] first, then the step uses the updated E[g^2]
  const squareAvg1 = tf.add(tf.mul(squareAvg, rho), tf.mul(tf.square(grad), 1 - rho));
  const delta = tf.mul(tf.div(tf.sqrt(tf.add(accDelta, epsilon)), tf.sqrt(tf.add(squareAvg1, epsilon))), grad);
  const accDelta1 = tf.add(tf.mul(accDelta, rho), tf.mul(tf.square(delta), 1 - rho));
  const param1 = tf.sub(param, tf.mul(delta, learningRate));
  return [param1, squareAvg1, accDelta1];
}
// #endregion adadelta-update
