/**
 * A convolution after the first (c2, c3) with its ReLU and 2x2 max pool, as one op whose backward
 * is one kernel and the input gradient's, for the backends that register the kernels (the wasm backend's tuned set:
 * lib/wasm/kernels.ts, native/train_kernels.c `max_pool_2x2_where` and `conv_pool_grad`).
 *
 * Forward: the convolution as ever (bias fused, Winograd's kernels for 3x3), then the pool and
 * ReLU, which also keeps, for each pooled value, which of its window's four it took.
 * Backward: three in four of the map's gradient are zeros (each window passes its gradient to one
 * value, or none), and the composed gradients multiply all of them: the pool's gradient writes the
 * map's gradient, then the input gradient, the filter gradient and the bias sum each read it
 * whole. The one kernel writes the map's gradient (for the input gradient's kernel, Winograd's for
 * 3x3) and sums the filter and bias gradients from the values a window passed on only: each times
 * the input window at its position. A quarter of the filter gradient's multiply-adds. (Scattering
 * each passed value times the filter into dx the same way was slower than Winograd's input
 * gradient on the whole map.)
 *
 * Same values as the composed form in both ReLU orders (lib/pool-relu.ts): a window's gradient
 * goes to its first maximum when that maximum is above 0, else nowhere. The input gradient is the
 * same bits; the filter and bias gradients sum in another order than the composed kernels', so
 * their last bits may differ.
 */
import * as tf from '@tensorflow/tfjs-core';
import { poolRelu, type ReluOrder } from './pool-relu';

export const POOL_RELU_WHERE = 'MnistSpeedrunMaxPoolReluWhere';
export const CONV_POOL_RELU_GRAD = 'MnistSpeedrunConvPoolReluGrad';

/**
 * Whether the active backend has the kernels and the layer fits them: float32 maps, input and
 * output channels multiples of 4, a convolution's map of 2x2 or more.
 */
export function fusable(x: tf.Tensor4D, filter: tf.Tensor4D): boolean {
  const backend = tf.getBackend();
  const [kh, kw, ci, co] = filter.shape;
  return x.dtype === 'float32' && filter.dtype === 'float32' && x.shape[3] === ci && ci % 4 === 0 && co % 4 === 0 &&
    x.shape[1] - kh + 1 >= 2 && x.shape[2] - kw + 1 >= 2 &&
    tf.getKernel(POOL_RELU_WHERE, backend) !== undefined && tf.getKernel(CONV_POOL_RELU_GRAD, backend) !== undefined;
}

const fused = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, filter, bias, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.GradSaveFunc];
  const map = tf.fused.conv2d({ x, filter, strides: 1, pad: 'valid', bias });
  const [y, where] = tf.engine().runKernel(POOL_RELU_WHERE, { x: map }, {}) as [tf.Tensor4D, tf.Tensor4D];
  map.dispose();
  save([x, filter, where, y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [input, weights, positions, pooled] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const [mapGradient, filterGradient, biasGradient] = tf.engine().runKernel(
        CONV_POOL_RELU_GRAD, { x: input, where: positions, y: pooled, dy }, { filterShape: weights.shape } as unknown as tf.NamedAttrMap,
      ) as [tf.Tensor4D, tf.Tensor, tf.Tensor];
      const inputGradient = tf.engine().runKernel('Conv2DBackpropInput', { dy: mapGradient, filter: weights }, {
        strides: 1, pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: input.shape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
      mapGradient.dispose();
      return [inputGradient, filterGradient, biasGradient];
    },
  };
}) as (x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D) => tf.Tensor4D;

/**
 * A valid convolution at stride 1 (bias fused) with its ReLU and 2x2 max pool at stride 2, in the
 * net's order: one backward kernel where the backend has it, the composed ops otherwise.
 */
export function convPoolRelu(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, order: ReluOrder): tf.Tensor4D {
  return fusable(x, filter)
    ? fused(x, filter, bias)
    : poolRelu(tf.fused.conv2d({ x, filter, strides: 1, pad: 'valid', bias }), order);
}
