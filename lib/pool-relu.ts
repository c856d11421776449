/**
 * A 2x2 max pool and a ReLU as one kernel, for the backends that register one (the wasm backend's
 * tuned set: lib/wasm/kernels.ts, native/train_kernels.c `max_pool_2x2` and `max_pool_grad_2x2`
 * with `relu`). Composed, they are two passes over the map forward and three backward (ReLU's
 * gradient is dy * step(y): a Step and a Multiply, then the pool's gradient); fused, one each way.
 *
 * Both orders of the nets compute the same thing: ReLU then pool ('after-relu': steps 1-7) and
 * pool then ReLU ('before-relu': steps 8-9) give the same values, max(0, window's max), and the
 * same gradients: a window's dy goes to its first maximum when that maximum is above 0, else
 * nowhere. The only difference from the composed ops is the sign of some zeros in the gradient
 * (dy * 0 is -0 for a negative dy), which no sum, product or update downstream can see.
 */
import * as tf from '@tensorflow/tfjs-core';

export const POOL_RELU = 'MnistSpeedrunMaxPoolRelu';
export const POOL_RELU_GRAD = 'MnistSpeedrunMaxPoolReluGrad';

/** Where the ReLU sits in the composed form (lib/nets.ts ConvSpec.pool). */
export type ReluOrder = 'after-relu' | 'before-relu';

/** Whether the active backend has the fused kernels, and `x` is a map they take (float32, channels a multiple of 4). */
function fusable(x: tf.Tensor4D): boolean {
  const backend = tf.getBackend();
  return x.dtype === 'float32' && x.shape[3] % 4 === 0 &&
    tf.getKernel(POOL_RELU, backend) !== undefined && tf.getKernel(POOL_RELU_GRAD, backend) !== undefined;
}

/** The composed form, in the net's order. */
export function poolReluComposed(x: tf.Tensor4D, order: ReluOrder): tf.Tensor4D {
  return order === 'after-relu' ? tf.maxPool(tf.relu(x), 2, 2, 'valid') : tf.relu(tf.maxPool(x, 2, 2, 'valid'));
}

const fused = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.engine().runKernel(POOL_RELU, { x }, {}) as tf.Tensor4D,
    gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => tf.engine().runKernel(POOL_RELU_GRAD, { x: saved[0]!, dy }, {}) as tf.Tensor4D,
  };
}) as (x: tf.Tensor4D) => tf.Tensor4D;

/** ReLU and a 2x2 max pool at stride 2 ('valid') of an NHWC map: one kernel where the backend has it, composed otherwise. */
export function poolRelu(x: tf.Tensor4D, order: ReluOrder): tf.Tensor4D {
  return fusable(x) ? fused(x) : poolReluComposed(x, order);
}
