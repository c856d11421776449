/**
 * The first layer: a convolution of the input images (c1), bias fused, and where the net has them,
 * its ReLU and 2x2 max pool. Nothing upstream needs a gradient, so neither form computes dL/dx
 * (tf.fused.conv2d's own gradient always does: a full convolution nobody needs for the images;
 * the zeros given instead cost one fill).
 *
 * With a pool and a ReLU, backends that register the fused kernels (the wasm backend's tuned set:
 * lib/wasm/kernels.ts, native/train_kernels.c `conv_pool_relu` and `conv_pool_relu_grad`) run the
 * layer as one kernel each way. The forward never writes the convolution's map (24x24 or 26x26,
 * four times the pooled one): it keeps, for each pooled value, which of its window's four values
 * it took. The backward takes only the values a window passed on (three in four of the map's
 * gradient are zeros): for each pooled value and channel, its gradient times the input window at
 * its position adds into the filter gradient, a quarter of the direct kernel's multiply-adds.
 * Composed, the same layer is a convolution, a pool and its gradient, a filter gradient and a
 * sum, each a pass over the whole map in memory.
 *
 * Forward values are the same bits as the composed form's; the filter and bias gradients sum the
 * same terms in another order, so their last bits may differ.
 *
 * Same values as the composed form, both ReLU orders (lib/pool-relu.ts): a window's gradient goes
 * to its first maximum when that maximum is above 0, else nowhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import { poolRelu, type ReluOrder } from './pool-relu';

export const INPUT_CONV_POOL_RELU = 'MnistSpeedrunInputConvPoolRelu';
export const INPUT_CONV_POOL_RELU_GRAD = 'MnistSpeedrunInputConvPoolReluGrad';

/**
 * The fused kernel's output besides the pooled map: which value of each 2x2 window it took, 0-3
 * in row-major order, one byte per pooled value, four bytes (channels 4i..4i+3, lowest byte
 * first) per int32 element: [N, PH, PW, CO / 4].
 */
export const WINDOW_POSITIONS_PER_ELEMENT = 4;

/** The convolution on the images, bias fused; its gradient gives zeros for the images. */
export function inputConv(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  const withGradient = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [images, weights, offsets, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.GradSaveFunc];
    save([images]);
    return {
      value: tf.fused.conv2d({ x: images, filter: weights, strides: 1, pad: 'valid', bias: offsets }),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const input = saved[0]!;
        const filterGradient = tf.engine().runKernel('Conv2DBackpropFilter', { x: input, dy }, {
          strides: 1, pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: weights.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [tf.zerosLike(input), filterGradient, tf.sum(dy, [0, 1, 2])];
      },
    };
  });
  return withGradient(x, filter, bias);
}

/** The most taps a window of the fused kernels may have (native conv_pool_relu_grad keeps them in 7 registers): 5x5. */
export const MAX_FUSED_TAPS = 28;

/**
 * Whether the active backend has the fused kernels and the layer fits them: float32 images of 1
 * channel, output channels a multiple of 8, at most MAX_FUSED_TAPS taps, a map of 2x2 or more.
 */
export function fusable(x: tf.Tensor4D, filter: tf.Tensor4D): boolean {
  const backend = tf.getBackend();
  const [kh, kw, ci, co] = filter.shape;
  return x.dtype === 'float32' && filter.dtype === 'float32' && x.shape[3] === 1 && ci === 1 && co % 8 === 0 && kh * kw <= MAX_FUSED_TAPS &&
    x.shape[1] - kh + 1 >= 2 && x.shape[2] - kw + 1 >= 2 &&
    tf.getKernel(INPUT_CONV_POOL_RELU, backend) !== undefined && tf.getKernel(INPUT_CONV_POOL_RELU_GRAD, backend) !== undefined;
}

const fused = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, filter, bias, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.GradSaveFunc];
  const [y, where] = tf.engine().runKernel(INPUT_CONV_POOL_RELU, { x, filter, bias }, {}) as [tf.Tensor4D, tf.Tensor4D];
  save([x, where, y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [images, positions, pooled] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const [filterGradient, biasGradient] = tf.engine().runKernel(
        INPUT_CONV_POOL_RELU_GRAD, { x: images, where: positions, y: pooled, dy }, { filterShape: filter.shape } as unknown as tf.NamedAttrMap,
      ) as [tf.Tensor, tf.Tensor];
      return [tf.zerosLike(images), filterGradient, biasGradient];
    },
  };
}) as (x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D) => tf.Tensor4D;

/**
 * The first layer with its ReLU and 2x2 max pool at stride 2 ('valid'), in the net's order: one
 * kernel each way where the backend has them, the convolution then lib/pool-relu.ts otherwise.
 */
export function inputConvPoolRelu(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, order: ReluOrder): tf.Tensor4D {
  return fusable(x, filter) ? fused(x, filter, bias) : poolRelu(inputConv(x, filter, bias), order);
}
