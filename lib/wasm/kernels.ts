/**
 * Training kernels for TensorFlow.js's wasm backend.
 *
 * The stock wasm backend (4.22) cannot train a convnet quickly: it has no `Conv2DBackpropFilter`,
 * and its `Conv2DBackpropInput`, `MaxPoolGrad`, transposed `BatchMatMul` and leading-axis `Sum`
 * are scalar loops or transpose-then-loop; its `Slice` and `GatherV2` copy far more than they
 * return. The 'tuned' set runs the project's own SIMD kernels (native/train_kernels.c, see
 * ./native) on the backend's heap wherever their shapes fit, split over the batch between two
 * threads when the backend is threaded; otherwise each kernel below is a few calls of
 * XNNPACK-backed stock kernels or a tight loop over the wasm heap (the 'composed' set). Every kernel handles the cases the four
 * nets produce (NHWC, stride 1, any padding for convolutions) and hands anything else to the stock
 * kernel or to a slower general formulation, so results never depend on the fast path. Valid 3x3
 * convolutions (every net's second layer) take Winograd's kernels, unless `useWinograd` turns them
 * off (lib/wasm/native.ts): fewer multiply-adds, other rounding, within the same tolerance.
 *
 * Semantics: max-pool gradients go to the FIRST maximum of each window in row-major order, as
 * PyTorch (`max_pool2d` backward) and the tfjs `cpu` backend do. Ties are common on MNIST (flat
 * background), and splitting the gradient between tied maxima would disagree with PyTorch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, slice_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ADADELTA_STEP, type AdadeltaStepAttrs } from '../adadelta-step';
import { ADAM_STEP, type AdamStepAttrs } from '../adam-step';
import { CONV_POOL_RELU_GRAD, POOL_RELU_WHERE } from '../conv-pool-relu';
import { INPUT_CONV_POOL_RELU, INPUT_CONV_POOL_RELU_GRAD, MAX_FUSED_TAPS, WINDOW_POSITIONS_PER_ELEMENT } from '../input-conv';
import { POOL_RELU, POOL_RELU_GRAD } from '../pool-relu';
import { heapOffset, nativeKernels, runInChunks, runOverBatch, winogradOn, winogradTile, withScratch } from './native';

const BACKEND = 'wasm';

export class MissingKernelError extends Error {
  override name = 'MissingKernelError';
}

/** Kernels a training step of any of the four nets runs (forward, backward, optimizers). */
export const TRAINING_KERNELS: readonly string[] = [
  'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPool', 'MaxPoolGrad', 'Relu', 'Step',
  'BatchMatMul', '_FusedMatMul', 'Reshape', 'Transpose', 'Add', 'Sub', 'Multiply', 'RealDiv', 'Sum',
  'Max', 'Exp', 'Log', 'Neg', 'Sqrt', 'Square', 'Cast', 'GatherV2', 'OneHot', 'Fill', 'Identity',
];

/** Throws if any of `names` has no kernel registered for the wasm backend. */
export function assertKernelsRegistered(names: readonly string[] = TRAINING_KERNELS): void {
  const missing = names.filter((name) => !hasKernel(name));
  if (missing.length > 0) {
    throw new MissingKernelError(
      `the wasm backend has no kernel for ${missing.join(', ')}: call setupWasm() from lib/wasm/setup before training, or use the cpu backend`,
    );
  }
}

function hasKernel(name: string): boolean {
  return tf.getKernel(name, BACKEND) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Calling stock kernels from inside a kernel
// ---------------------------------------------------------------------------------------------

/** The kernels this module replaces, saved so the replacements can delegate and can be undone. */
export interface StockKernels {
  get(name: string): KernelFunc;
}

function callKernel(
  stock: StockKernels,
  name: string,
  backend: BackendWasm,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  return stock.get(name)({ inputs, backend, attrs }) as TensorInfo;
}

function dispose(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

function transpose(stock: StockKernels, backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return callKernel(stock, 'Transpose', backend, { x }, { perm });
}

function reshape(stock: StockKernels, backend: BackendWasm, x: TensorInfo, shape: number[]): TensorInfo {
  return callKernel(stock, 'Reshape', backend, { x }, { shape });
}

/** Explicit NHWC padding in the form Conv2D's `pad` attribute accepts. */
function explicitPad(top: number, bottom: number, left: number, right: number): backend_util.ExplicitPadding {
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

function isUnitStride(convInfo: backend_util.Conv2DInfo): boolean {
  return convInfo.strideHeight === 1 && convInfo.strideWidth === 1 && convInfo.dilationHeight === 1 && convInfo.dilationWidth === 1;
}

// ---------------------------------------------------------------------------------------------
// The kernels
// ---------------------------------------------------------------------------------------------

/** The geometry of a Conv2DBackpropFilter call, from its input and attributes. */
function filterGradConvInfo(x: TensorInfo, attrs: tf.Conv2DBackpropFilterAttrs): backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
}

/**
 * dW for `conv2d(x, W)`: a convolution of the input, its batch moved into channels, with the
 * output gradient used as the filter:
 *   x [N,H,W,C] -> [C,H,W,N];  dy [N,OH,OW,CO] -> [OH,OW,N,CO];
 *   conv2d(valid on the forward's padding) -> [C,KH,KW,CO] -> [KH,KW,C,CO].
 * Other strides and dilations take a plain loop (slow, exact); NCHW is refused.
 */
export function conv2DBackpropFilter(stock: StockKernels, native = true): KernelFunc {
  return ({ inputs, backend: anyBackend, attrs }) => {
    const backend = anyBackend as BackendWasm;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const convInfo = filterGradConvInfo(x, attrs as unknown as tf.Conv2DBackpropFilterAttrs);
    if (convInfo.dataFormat !== 'channelsLast') {
      throw new MissingKernelError('Conv2DBackpropFilter on wasm supports NHWC only: use dataFormat NHWC');
    }
    if (!isUnitStride(convInfo)) return filterGradLoop(backend, x, dy, convInfo);
    const fast = native ? filterGradNative(backend, x, dy, convInfo) : null;
    if (fast !== null) return fast;
    const { top, bottom, left, right } = convInfo.padInfo;
    if (convInfo.inChannels === 1) return filterGradSingleChannel(stock, backend, x, dy, convInfo);
    const xT = transpose(stock, backend, x, [3, 1, 2, 0]); // [C, H, W, N]
    const dyT = transpose(stock, backend, dy, [1, 2, 0, 3]); // [OH, OW, N, CO]
    const dwT = callKernel(stock, 'Conv2D', backend, { x: xT, filter: dyT }, {
      strides: 1, pad: explicitPad(top, bottom, left, right), dilations: 1, dataFormat: 'NHWC',
    }); // [C, KH, KW, CO]
    const dw = transpose(stock, backend, dwT, [1, 2, 0, 3]); // [KH, KW, C, CO]
    dispose(backend, xT, dyT, dwT);
    return dw;
  };
}

/**
 * Filter gradient through native/train_kernels.c (stride 1, NHWC), where its SIMD blocking fits
 * the channels: 1 input channel without padding, or a multiple of 4; output channels a multiple
 * of 8. Null otherwise. Each image's sum is taken in float32, the sum over images in float64.
 */
function filterGradNative(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { top, left, bottom, right } = info.padInfo;
  const singleChannel = inChannels === 1 && top === 0 && left === 0 && bottom === 0 && right === 0;
  if (outChannels % 8 !== 0 || !(singleChannel || inChannels % 4 === 0)) return null;
  const dw = backend.makeOutput([filterHeight, filterWidth, inChannels, outChannels], 'float32');
  if (filterHeight === 3 && filterWidth === 3 && top + left + bottom + right === 0 && inChannels % 4 === 0 && winogradOn(backend)) {
    winogradFilterGrad(backend, x, dy, dw, info);
    return dw;
  }
  const kernels = nativeKernels(backend);
  const size = filterHeight * filterWidth * inChannels * outChannels;
  const imageBytes = { x: inHeight * inWidth * inChannels * 4, dy: outHeight * outWidth * outChannels * 4 };
  withScratch(backend, 2 * size * 8, (scratch) => {
    const totals = [scratch, scratch + size * 8] as const;
    kernels.clear_f64(scratch, 2 * size);
    const [xAt, dyAt] = [heapOffset(backend, x), heapOffset(backend, dy)];
    const split = runOverBatch(backend, singleChannel ? 'filter_grad_1ch' : 'filter_grad', batchSize, (first, count, half) => {
      const [xFirst, dyFirst] = [xAt + first * imageBytes.x, dyAt + first * imageBytes.dy];
      return singleChannel
        ? [xFirst, dyFirst, totals[half], count, inHeight, inWidth, outHeight, outWidth, outChannels, filterHeight, filterWidth]
        : [xFirst, dyFirst, totals[half], count, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, top, left];
    });
    kernels.totals_to_f32(totals[0], split ? totals[1] : 0, heapOffset(backend, dw), size);
  });
  return dw;
}

/**
 * The filter gradient of a valid 3x3 convolution at stride 1 by Winograd's transforms (native
 * winograd_filter_grad): each half of the batch sums its images' transformed products in float64
 * totals, [16][ci][co]; winograd_filter_grad_out adds the halves and transforms back to [3,3,ci,co].
 */
function winogradFilterGrad(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, dw: TensorInfo, info: backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: ci, outHeight, outWidth, outChannels: co } = info;
  const kernels = nativeKernels(backend);
  const size = 16 * ci * co;
  const tiles = Math.ceil(outHeight / 2) * Math.ceil(outWidth / 2);
  const halfScratchBytes = 16 * tiles * (ci + co) * 4;
  const imageBytes = { x: inHeight * inWidth * ci * 4, dy: outHeight * outWidth * co * 4 };
  withScratch(backend, 2 * size * 8 + 2 * halfScratchBytes, (scratch) => {
    const totals = [scratch, scratch + size * 8] as const;
    const images = scratch + 2 * size * 8;
    kernels.clear_f64(scratch, 2 * size);
    const [xAt, dyAt] = [heapOffset(backend, x), heapOffset(backend, dy)];
    const split = runOverBatch(backend, 'winograd_filter_grad', batchSize, (first, count, half) => [
      xAt + first * imageBytes.x, dyAt + first * imageBytes.dy, totals[half], images + half * halfScratchBytes, count,
      inHeight, inWidth, ci, outHeight, outWidth, co,
    ]);
    kernels.winograd_filter_grad_out(totals[0], split ? totals[1] : 0, heapOffset(backend, dw), ci, co);
  });
}

/**
 * Filter gradient for a 1-channel input (every net's first layer): a depthwise convolution of the
 * images, batch moved into channels, with dy as per-image filters, then a sum over the batch:
 *   x [N,H,W,1] -> [1,H,W,N];  dy [N,OH,OW,CO] -> [OH,OW,N,CO];
 *   depthwise (channel multiplier CO) -> [1,KH,KW,N*CO] -> sum over N -> [KH,KW,1,CO].
 * Besides being faster, this sums each image apart (OH*OW terms) before summing the images: one
 * float32 accumulator over all N*OH*OW terms loses too much to cancellation (the flat background
 * makes the terms nearly cancel), measurably more than PyTorch's own rounding.
 */
function filterGradSingleChannel(
  stock: StockKernels, backend: BackendWasm, x: TensorInfo, dy: TensorInfo, convInfo: backend_util.Conv2DInfo,
): TensorInfo {
  const { top, bottom, left, right } = convInfo.padInfo;
  const { batchSize, filterHeight, filterWidth, outChannels } = convInfo;
  const xT = transpose(stock, backend, x, [3, 1, 2, 0]); // [1, H, W, N]
  const dyT = transpose(stock, backend, dy, [1, 2, 0, 3]); // [OH, OW, N, CO]
  const perImage = callKernel(stock, 'DepthwiseConv2dNative', backend, { x: xT, filter: dyT }, {
    strides: 1, pad: explicitPad(top, bottom, left, right), dilations: 1, dataFormat: 'NHWC',
  }); // [1, KH, KW, N * CO]
  const grouped = reshape(stock, backend, perImage, [filterHeight * filterWidth, batchSize, outChannels]);
  const summed = callKernel(stock, 'Sum', backend, { x: grouped }, { axis: [1], keepDims: false }); // [KH*KW, CO]
  const dw = reshape(stock, backend, summed, [filterHeight, filterWidth, 1, outChannels]);
  dispose(backend, xT, dyT, perImage, grouped, summed);
  return dw;
}

/** Filter gradient for any stride, dilation and padding (NHWC): a direct loop over the heap. */
function filterGradLoop(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const dw = backend.makeOutput([info.filterHeight, info.filterWidth, info.inChannels, info.outChannels], 'float32');
  const dwValues = backend.typedArrayFromHeap(dw) as Float32Array;
  const xValues = backend.typedArrayFromHeap(x) as Float32Array;
  const dyValues = backend.typedArrayFromHeap(dy) as Float32Array;
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { top, left } = info.padInfo;
  for (let ky = 0; ky < info.filterHeight; ky++) {
    for (let kx = 0; kx < info.filterWidth; kx++) {
      for (let c = 0; c < inChannels; c++) {
        for (let co = 0; co < outChannels; co++) {
          let total = 0;
          for (let n = 0; n < batchSize; n++) {
            for (let oy = 0; oy < outHeight; oy++) {
              const iy = oy * info.strideHeight + ky * info.dilationHeight - top;
              if (iy < 0 || iy >= inHeight) continue;
              for (let ox = 0; ox < outWidth; ox++) {
                const ix = ox * info.strideWidth + kx * info.dilationWidth - left;
                if (ix < 0 || ix >= inWidth) continue;
                total += xValues[((n * inHeight + iy) * inWidth + ix) * inChannels + c]! *
                  dyValues[((n * outHeight + oy) * outWidth + ox) * outChannels + co]!;
              }
            }
          }
          dwValues[((ky * info.filterWidth + kx) * inChannels + c) * outChannels + co] = total;
        }
      }
    }
  }
  return dw;
}

/** Filter gradient through the stock 3-D kernel (a 2-D convolution is a 3-D one of depth 1). */
function filterGradViaConv3D(
  stock: StockKernels, backend: BackendWasm, x: TensorInfo, dy: TensorInfo, convInfo: backend_util.Conv2DInfo,
): TensorInfo {
  if (convInfo.dataFormat !== 'channelsLast') {
    throw new MissingKernelError('Conv2DBackpropFilter on wasm supports NHWC only: use dataFormat NHWC');
  }
  const { padInfo } = convInfo;
  if (padInfo.top !== padInfo.bottom || padInfo.left !== padInfo.right) {
    throw new MissingKernelError('Conv2DBackpropFilter on wasm: strided convolutions with asymmetric padding are not supported; use stride 1');
  }
  const x5 = reshape(stock, backend, x, [x.shape[0], 1, ...x.shape.slice(1)]);
  const dy5 = reshape(stock, backend, dy, [dy.shape[0], 1, ...dy.shape.slice(1)]);
  const filterShape = [1, convInfo.filterHeight, convInfo.filterWidth, convInfo.inChannels, convInfo.outChannels];
  const dw5 = callKernel(stock, 'Conv3DBackpropFilterV2', backend, { x: x5, dy: dy5 }, {
    strides: [1, convInfo.strideHeight, convInfo.strideWidth],
    pad: padInfo.type === 'VALID' ? 'valid' : 'same',
    filterShape,
    dilations: [1, convInfo.dilationHeight, convInfo.dilationWidth],
  });
  const dw = reshape(stock, backend, dw5, filterShape.slice(1));
  dispose(backend, x5, dy5, dw5);
  return dw;
}

/** Whether dy has the shape of the convolution's output (NHWC), as every kernel here assumes. */
function dyFitsOutput(dy: TensorInfo, info: backend_util.Conv2DInfo): boolean {
  return util.arraysEqual(dy.shape, [info.batchSize, info.outHeight, info.outWidth, info.outChannels]);
}

/**
 * dX for `conv2d(x, W)` at stride 1: a convolution of dy with the spatially reversed filter, its
 * in/out channels swapped, padded by (K - 1 - p) on each side. Other cases use the stock kernel,
 * and so does a dy that is not the shape of the convolution's output: `conv2dTranspose` passes its
 * input as dy unchecked (an 8x8 input with output shape 4x4 and 'same' padding gives a 4x4
 * convolution output), and the stock kernel reads such a dy with its own strides.
 */
export function conv2DBackpropInput(stock: StockKernels, native = true): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    const convInfo = backend_util.computeConv2DInfo(
      inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    if (!isUnitStride(convInfo) || convInfo.dataFormat !== 'channelsLast' || !dyFitsOutput(dy, convInfo)) {
      return stock.get('Conv2DBackpropInput')(args) as TensorInfo;
    }
    if (native && convInfo.inChannels % 4 === 0) return inputGradNative(backend, dy, filter, convInfo);
    const { filterHeight: kh, filterWidth: kw, padInfo } = convInfo;
    const flipped = callKernel(stock, 'Reverse', backend, { x: filter }, { dims: [0, 1] });
    const swapped = transpose(stock, backend, flipped, [0, 1, 3, 2]); // [KH, KW, CO, CI]
    const dx = callKernel(stock, 'Conv2D', backend, { x: dy, filter: swapped }, {
      strides: 1,
      pad: explicitPad(kh - 1 - padInfo.top, kh - 1 - padInfo.bottom, kw - 1 - padInfo.left, kw - 1 - padInfo.right),
      dilations: 1,
      dataFormat: 'NHWC',
    });
    dispose(backend, flipped, swapped);
    return dx;
  };
}

/**
 * Input gradient through native/train_kernels.c (stride 1, NHWC, input channels a multiple of 4):
 * only the taps that land inside dy are computed, where the flipped convolution above also
 * multiplies the zero padding (1.4x the work for the nets' 3x3 layers).
 */
function inputGradNative(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const dx = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
  const filterBytes = filter.shape.reduce((a, b) => a * b, 1) * 4;
  const imageBytes = { dy: outHeight * outWidth * outChannels * 4, dx: inHeight * inWidth * inChannels * 4 };
  const [dyAt, filterAt, dxAt] = [heapOffset(backend, dy), heapOffset(backend, filter), heapOffset(backend, dx)];
  const { top, bottom, left, right } = info.padInfo;
  if (filterHeight === 3 && filterWidth === 3 && top + bottom + left + right === 0 && inChannels % 8 === 0 && outChannels % 4 === 0 && winogradOn(backend)) {
    // the valid convolution's input gradient: dy padded by 2, by the reversed filter with its channels swapped
    winogradConv(backend, { at: dyAt, bytes: imageBytes.dy, side: [outHeight, outWidth], channels: outChannels },
      { at: dxAt, bytes: imageBytes.dx, side: [inHeight, inWidth], channels: inChannels },
      { filterAt, flip: true, biasAt: 0, relu: false, pad: 2, batchSize });
    return dx;
  }
  withScratch(backend, filterBytes, (transposed) => {
    nativeKernels(backend).input_grad_filter(filterAt, transposed, filterHeight * filterWidth, inChannels, outChannels);
    runInChunks(backend, 'input_grad', batchSize, (first, count) => [
      dyAt + first * imageBytes.dy, transposed, dxAt + first * imageBytes.dx,
      count, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, info.padInfo.top, info.padInfo.left,
    ]);
  });
  return dx;
}

/**
 * `Conv2D` and `FusedConv2D` (a bias of one value per output channel, linear or ReLU activation)
 * through native/train_kernels.c at stride 1 without padding, output channels a multiple of 8
 * (every layer of the nets); everything else (a broadcast bias among it) goes to the stock
 * (XNNPACK) kernel.
 */
export function nativeConv2D(stock: StockKernels, kernelName: 'Conv2D' | 'FusedConv2D'): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as tf.Conv2DAttrs & { activation?: string };
    const activation = attrs.activation ?? 'linear';
    const fits = x!.shape.length === 4 && filter!.shape[3]! % 8 === 0 && x!.dtype === 'float32' &&
      (attrs.dataFormat ?? 'NHWC') === 'NHWC' && preluActivationWeights === undefined &&
      (activation === 'linear' || activation === 'relu') &&
      (bias === undefined || (bias.shape.length === 1 && bias.shape[0] === filter!.shape[3] && bias.dtype === 'float32'));
    if (!fits) return stock.get(kernelName)(args) as TensorInfo;
    const info = backend_util.computeConv2DInfo(
      x!.shape as [number, number, number, number], filter!.shape as [number, number, number, number],
      attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode,
    );
    const { top, bottom, left, right } = info.padInfo;
    if (!isUnitStride(info) || top + bottom + left + right !== 0) return stock.get(kernelName)(args) as TensorInfo;
    const y = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.outChannels], 'float32');
    const imageBytes = { x: info.inHeight * info.inWidth * info.inChannels * 4, y: info.outHeight * info.outWidth * info.outChannels * 4 };
    const [xAt, filterAt, biasAt, yAt] = [heapOffset(backend, x!), heapOffset(backend, filter!), bias === undefined ? 0 : heapOffset(backend, bias), heapOffset(backend, y)];
    if (info.filterHeight === 3 && info.filterWidth === 3 && info.inChannels % 4 === 0 && winogradOn(backend)) {
      winogradConv(backend, { at: xAt, bytes: imageBytes.x, side: [info.inHeight, info.inWidth], channels: info.inChannels },
        { at: yAt, bytes: imageBytes.y, side: [info.outHeight, info.outWidth], channels: info.outChannels },
        { filterAt, flip: false, biasAt, relu: activation === 'relu', pad: 0, batchSize: info.batchSize });
      return y;
    }
    runInChunks(backend, 'conv2d', info.batchSize, (first, count) => [
      xAt + first * imageBytes.x, filterAt, biasAt, yAt + first * imageBytes.y, count, info.inHeight, info.inWidth, info.inChannels,
      info.outHeight, info.outWidth, info.outChannels, info.filterHeight, info.filterWidth, activation === 'relu' ? 1 : 0,
    ]);
    return y;
  };
}

/** NHWC maps on the heap: where the batch starts, the bytes of one image, its height and width, its channels. */
interface HeapMaps {
  at: number;
  bytes: number;
  side: [number, number];
  channels: number;
}

/**
 * A 3x3 convolution at stride 1 through the Winograd kernel (native winograd_conv), `source` padded
 * by `pad` zeros on every side into `out`; the filter is transformed once per call (flip: the
 * forward filter of an out -> source convolution, reversed, for its input gradient). Needs
 * source channels % 4 == 0 and out channels % 8 == 0. Each image's outputs depend on that image
 * alone, so the batch is shared in chunks; each thread has its own scratch.
 */
function winogradConv(
  backend: BackendWasm, source: HeapMaps, out: HeapMaps,
  how: { filterAt: number; flip: boolean; biasAt: number; relu: boolean; pad: number; batchSize: number },
): void {
  const [ci, co] = [source.channels, out.channels];
  // a 2x2 output tile takes a 4x4 input tile (16 products per channel pair), a 4x4 one a 6x6 (36)
  const tile = winogradTile(backend);
  const positions = (tile + 2) ** 2;
  const filterBytes = positions * ci * co * 4;
  // per thread: F(2x2, 3x3) two tiles at a time; F(4x4, 3x3) a group of 8 tiles (native WINOGRAD4_GROUP), each of its 36
  // positions 16 floats further apart in the inputs and in the products (native vs, ms), and a zero-bordered copy of the image
  const [outHeight, outWidth] = out.side;
  const threadScratchBytes = tile === 4
    ? (positions * (8 * (ci + co) + 32) + (4 * Math.ceil(outHeight / 4) + 2) * (4 * Math.ceil(outWidth / 4) + 2) * ci) * 4
    : 2 * positions * (ci + co) * 4;
  const kernels = nativeKernels(backend);
  withScratch(backend, filterBytes + 2 * threadScratchBytes, (transformed) => {
    (tile === 4 ? kernels.winograd4_filter : kernels.winograd_filter)(how.filterAt, transformed, ci, co, how.flip ? 1 : 0);
    const scratch = transformed + filterBytes;
    runInChunks(backend, tile === 4 ? 'winograd4_conv' : 'winograd_conv', how.batchSize, (first, count, thread) => [
      source.at + first * source.bytes, transformed, how.biasAt, out.at + first * out.bytes, scratch + thread * threadScratchBytes, count,
      ...source.side, ci, ...out.side, co, how.pad, how.relu ? 1 : 0,
    ]);
  });
}

/**
 * 2x2 windows at stride 2 without padding: the nets' pooling, which the native kernels cover. The
 * output must be floor(size / 2) each way, every window inside the input: 'same' padding of an odd
 * size (padding after only) or a rounding mode of 'ceil' adds a last row or column of part-windows.
 */
function isPlain2x2(info: backend_util.Conv2DInfo): boolean {
  return info.filterHeight === 2 && info.filterWidth === 2 && info.strideHeight === 2 && info.strideWidth === 2 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 && info.dilationHeight === 1 && info.dilationWidth === 1 &&
    info.outHeight === Math.floor(info.inHeight / 2) && info.outWidth === Math.floor(info.inWidth / 2);
}

/**
 * `maxPool` of 2x2 windows at stride 2 (channels a multiple of 4) through native/train_kernels.c,
 * split over the batch when threaded; a NaN in a window wins it, as in PyTorch. Others: stock.
 */
export function nativeMaxPool(stock: StockKernels): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolAttrs;
    if (x.dtype !== 'float32' || x.shape.length !== 4) return stock.get('MaxPool')(args) as TensorInfo;
    const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    if (!isPlain2x2(info) || info.inChannels % 4 !== 0) return stock.get('MaxPool')(args) as TensorInfo;
    return maxPool2x2(backend, x, info, false);
  };
}

/** The native 2x2 pool of `x` (float32, channels a multiple of 4), with a ReLU where asked. */
function maxPool2x2(backend: BackendWasm, x: TensorInfo, info: backend_util.Conv2DInfo, relu: boolean): TensorInfo {
  const y = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, info.inChannels], 'float32');
  const imageBytes = { x: info.inHeight * info.inWidth * info.inChannels * 4, y: info.outHeight * info.outWidth * info.inChannels * 4 };
  const [xAt, yAt] = [heapOffset(backend, x), heapOffset(backend, y)];
  runInChunks(backend, 'max_pool_2x2', info.batchSize, (first, count) => [
    xAt + first * imageBytes.x, yAt + first * imageBytes.y, count, info.inHeight, info.inWidth, info.inChannels, relu ? 1 : 0,
  ]);
  return y;
}

/** The native gradient of the 2x2 pool (with its ReLU where asked) of `input`, for the pooled gradient `dy`. */
function maxPoolGrad2x2(backend: BackendWasm, input: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo, relu: boolean): TensorInfo {
  const dx = backend.makeOutput(input.shape, 'float32');
  const imageBytes = { x: info.inHeight * info.inWidth * info.inChannels * 4, dy: info.outHeight * info.outWidth * info.inChannels * 4 };
  const [xAt, dyAt, dxAt] = [heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, dx)];
  runInChunks(backend, 'max_pool_grad_2x2', info.batchSize, (first, count) => [
    xAt + first * imageBytes.x, dyAt + first * imageBytes.dy, dxAt + first * imageBytes.x, count, info.inHeight, info.inWidth, info.inChannels, relu ? 1 : 0,
  ]);
  return dx;
}

/** The 2x2 pool at stride 2 of an NHWC float32 map whose channels are a multiple of 4 (lib/pool-relu.ts checks before it calls). */
function plainPoolInfo(x: TensorInfo, kernel: string): backend_util.Conv2DInfo {
  if (x.dtype !== 'float32' || x.shape.length !== 4 || x.shape[3]! % 4 !== 0) {
    throw new Error(`${kernel}: x must be an NHWC float32 map with channels a multiple of 4, got ${x.dtype} [${x.shape.join(', ')}]`);
  }
  return backend_util.computePool2DInfo(x.shape as [number, number, number, number], 2, 2, 1, 'valid');
}

/** lib/pool-relu.ts's fused 2x2 max pool and ReLU, forward. */
export function poolReluKernel(): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    return maxPool2x2(args.backend as BackendWasm, x, plainPoolInfo(x, POOL_RELU), true);
  };
}

/** ... and its gradient: dy to each window's first maximum where that maximum is above 0. */
export function poolReluGradKernel(): KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    return maxPoolGrad2x2(args.backend as BackendWasm, x, dy, plainPoolInfo(x, POOL_RELU_GRAD), true);
  };
}

/** A fused layer's gradient kernel: its pooled output y and gradient dy must both have the pooled map's shape. */
function assertPooledShapes(kernel: string, maps: { y: TensorInfo; dy: TensorInfo }, shape: number[]): void {
  for (const [name, t] of Object.entries(maps)) {
    if (t.shape.join() !== shape.join()) throw new Error(`${kernel}: ${name} must be [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
  }
}

/** lib/input-conv.ts's layer shapes: images [N,H,W,1], filter [KH,KW,1,CO] (CO a multiple of 8), the map and the pooled map. */
function inputLayerShape(x: TensorInfo, filterShape: readonly number[], kernel: string) {
  const [kh, kw, ci, co] = filterShape as [number, number, number, number];
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [oh, ow] = [h - kh + 1, w - kw + 1];
  if (x.dtype !== 'float32' || x.shape.length !== 4 || c !== 1 || ci !== 1 || co % 8 !== 0 || kh * kw > MAX_FUSED_TAPS || oh < 2 || ow < 2) {
    throw new Error(`${kernel}: needs float32 images [N, H, W, 1] and a filter [KH, KW, 1, CO] with CO a multiple of 8, ` +
      `at most ${MAX_FUSED_TAPS} taps and a map of 2x2 or more, ` +
      `got ${x.dtype} [${x.shape.join(', ')}] and [${filterShape.join(', ')}]`);
  }
  return { n, h, w, kh, kw, co, oh, ow, ph: Math.floor(oh / 2), pw: Math.floor(ow / 2) };
}

/**
 * lib/input-conv.ts's first layer, forward (native conv_pool_relu): the pooled, ReLU'd map and,
 * packed four to an int32, the position each window's value came from. Every output belongs to
 * one image, so the batch is shared in chunks.
 */
export function inputConvPoolReluKernel(): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, filter, bias } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias: TensorInfo };
    const { n, h, w, kh, kw, co, ph, pw } = inputLayerShape(x, filter.shape, INPUT_CONV_POOL_RELU);
    if (bias.shape.length !== 1 || bias.shape[0] !== co) throw new Error(`${INPUT_CONV_POOL_RELU}: the bias must be [${co}], got [${bias.shape.join(', ')}]`);
    const y = backend.makeOutput([n, ph, pw, co], 'float32');
    const where = backend.makeOutput([n, ph, pw, co / WINDOW_POSITIONS_PER_ELEMENT], 'int32');
    const pooledBytes = ph * pw * co * 4;
    const [xAt, filterAt, biasAt, yAt, whereAt] = [x, filter, bias, y, where].map((t) => heapOffset(backend, t)) as [number, number, number, number, number];
    runInChunks(backend, 'conv_pool_relu', n, (first, count) => [
      xAt + first * h * w * 4, filterAt, biasAt, yAt + first * pooledBytes, whereAt + first * pooledBytes / 4, count, h, w, co, kh, kw,
    ]);
    return [y, where];
  };
}

/**
 * ... and its gradient (native conv_pool_relu_grad): the filter and bias gradients from the values
 * each window passed on, each half of the batch summing into its own float64 totals, with its own
 * scratch for an image's gathered input windows.
 */
export function inputConvPoolReluGradKernel(): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, where, y, dy } = args.inputs as { x: TensorInfo; where: TensorInfo; y: TensorInfo; dy: TensorInfo };
    const { filterShape } = args.attrs as unknown as { filterShape: number[] };
    const { n, h, w, kh, kw, co, oh, ow, ph, pw } = inputLayerShape(x, filterShape, INPUT_CONV_POOL_RELU_GRAD);
    assertPooledShapes(INPUT_CONV_POOL_RELU_GRAD, { y, dy }, [n, ph, pw, co]);
    const dw = backend.makeOutput([kh, kw, 1, co], 'float32');
    const db = backend.makeOutput([co], 'float32');
    const filterSize = kh * kw * co;
    const totalsBytes = (filterSize + co) * 8;
    const kp = Math.ceil(kh * kw / 4) * 4;
    const halfScratchBytes = (oh * ow * kp + 2 * ph * pw * co + co + kp) * 4;
    const pooledBytes = ph * pw * co * 4;
    const kernels = nativeKernels(backend);
    withScratch(backend, 2 * totalsBytes + 2 * halfScratchBytes, (scratch) => {
      const totals = [scratch, scratch + totalsBytes] as const;
      const images = scratch + 2 * totalsBytes;
      kernels.clear_f64(scratch, 2 * (filterSize + co));
      const [xAt, whereAt, yAt, dyAt] = [x, where, y, dy].map((t) => heapOffset(backend, t)) as [number, number, number, number];
      const split = runOverBatch(backend, 'conv_pool_relu_grad', n, (first, count, half) => [
        xAt + first * h * w * 4, whereAt + first * pooledBytes / 4, yAt + first * pooledBytes, dyAt + first * pooledBytes,
        totals[half], images + half * halfScratchBytes, count, h, w, co, kh, kw,
      ]);
      kernels.totals_to_f32(totals[0], split ? totals[1] : 0, heapOffset(backend, dw), filterSize);
      kernels.totals_to_f32(totals[0] + filterSize * 8, split ? totals[1] + filterSize * 8 : 0, heapOffset(backend, db), co);
    });
    return [dw, db];
  };
}

/**
 * lib/conv-pool-relu.ts's pool: the 2x2 max pool and ReLU of a float32 NHWC map whose channels are
 * a multiple of 4 (native max_pool_2x2_where), and, packed four to an int32, the position each
 * window's value came from. Chunks of the batch, as the pool without positions.
 */
export function poolReluWhereKernel(): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: TensorInfo };
    const info = plainPoolInfo(x, POOL_RELU_WHERE);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ph, outWidth: pw } = info;
    const y = backend.makeOutput([n, ph, pw, c], 'float32');
    const where = backend.makeOutput([n, ph, pw, c / WINDOW_POSITIONS_PER_ELEMENT], 'int32');
    const [xAt, yAt, whereAt] = [x, y, where].map((t) => heapOffset(backend, t)) as [number, number, number];
    const pooledBytes = ph * pw * c * 4;
    runInChunks(backend, 'max_pool_2x2_where', n, (first, count) => [
      xAt + first * h * w * c * 4, yAt + first * pooledBytes, whereAt + first * pooledBytes / 4, count, h, w, c,
    ]);
    return [y, where];
  };
}

/**
 * The backward of lib/conv-pool-relu.ts's layer but for its input gradient (native conv_pool_grad):
 * the map's gradient, and the filter and bias gradients, each half of the batch summing into its
 * own float64 totals.
 */
export function convPoolReluGradKernel(): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, where, y, dy } = args.inputs as Record<'x' | 'where' | 'y' | 'dy', TensorInfo>;
    const { filterShape } = args.attrs as unknown as { filterShape: number[] };
    const [kh, kw, ci, co] = filterShape as [number, number, number, number];
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const [oh, ow] = [h - kh + 1, w - kw + 1];
    const [ph, pw] = [Math.floor(oh / 2), Math.floor(ow / 2)];
    if (x.dtype !== 'float32' || x.shape.length !== 4 || c !== ci || ci % 4 !== 0 || co % 4 !== 0 || ph < 1 || pw < 1) {
      throw new Error(`${CONV_POOL_RELU_GRAD}: needs a float32 map [N, H, W, CI] and a filter [KH, KW, CI, CO], CI and CO multiples of 4, ` +
        `got ${x.dtype} [${x.shape.join(', ')}] and [${filterShape.join(', ')}]`);
    }
    assertPooledShapes(CONV_POOL_RELU_GRAD, { y, dy }, [n, ph, pw, co]);
    const dmap = backend.makeOutput([n, oh, ow, co], 'float32');
    const dw = backend.makeOutput(filterShape, 'float32');
    const db = backend.makeOutput([co], 'float32');
    const taps = kh * kw;
    const totalsBytes = (co * taps * ci + co) * 8;
    const halfScratchBytes = (2 * ph * pw * co + co) * 4;
    const pooledBytes = ph * pw * co * 4;
    const [imageBytes, mapBytes] = [h * w * ci * 4, oh * ow * co * 4];
    const kernels = nativeKernels(backend);
    withScratch(backend, 2 * totalsBytes + 2 * halfScratchBytes, (scratch) => {
      const totals = [scratch, scratch + totalsBytes] as const;
      const images = scratch + 2 * totalsBytes;
      kernels.clear_f64(scratch, 2 * (co * taps * ci + co));
      const [xAt, whereAt, yAt, dyAt, dmapAt] = [x, where, y, dy, dmap].map((t) => heapOffset(backend, t)) as [number, number, number, number, number];
      const split = runOverBatch(backend, 'conv_pool_grad', n, (first, count, half) => [
        xAt + first * imageBytes, whereAt + first * pooledBytes / 4, yAt + first * pooledBytes, dyAt + first * pooledBytes,
        dmapAt + first * mapBytes, totals[half], images + half * halfScratchBytes, count, h, w, ci, co, kh, kw,
      ]);
      kernels.conv_pool_grad_out(totals[0], split ? totals[1] : 0, heapOffset(backend, dw), heapOffset(backend, db), taps, ci, co);
    });
    return [dmap, dw, db];
  };
}

/**
 * `cast` to the same dtype without a copy (the ReLU gradient casts its float32 step mask to
 * float32, and the stock kernel copies it); any real conversion uses the stock kernel.
 */
export function sharedCast(stock: StockKernels): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { dtype } = args.attrs as unknown as tf.CastAttrs;
    if (x.dtype !== dtype || dtype === 'string') return stock.get('Cast')(args) as TensorInfo;
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype };
  };
}

/**
 * dX for `maxPool(x)`: each window's gradient goes to the first maximum of that window (row-major),
 * PyTorch's rule; a NaN takes the window, as in PyTorch's `(val > maxval) || isnan(val)`.
 * A single pass over the heap.
 */
export function maxPoolGrad(native = true): KernelFunc {
  return ({ inputs, backend: anyBackend, attrs }) => {
    const backend = anyBackend as BackendWasm;
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode,
    );
    const plain2x2 = isPlain2x2(info);
    if (native && plain2x2 && info.inChannels % 4 === 0 && input.dtype === 'float32') return maxPoolGrad2x2(backend, input, dy, info, false);
    const dx = backend.makeOutput(input.shape, 'float32');
    // Views are taken after the allocation above, which may grow (and so replace) the heap buffer.
    const dxValues = backend.typedArrayFromHeap(dx) as Float32Array;
    const xValues = backend.typedArrayFromHeap(input) as Float32Array;
    const dyValues = backend.typedArrayFromHeap(dy) as Float32Array;
    dxValues.fill(0);
    if (plain2x2) routeToFirstMax2x2(xValues, dyValues, dxValues, info);
    else routeToFirstMax(xValues, dyValues, dxValues, info);
    return dx;
  };
}

/** The loop of `maxPoolGrad`, on NHWC arrays. Exported for tests. */
export function routeToFirstMax(
  x: Float32Array, dy: Float32Array, dx: Float32Array, info: backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top: padTop, left: padLeft } = info.padInfo;
  const rowStride = inWidth * channels;
  let dyIndex = 0;
  for (let b = 0; b < batchSize; b++) {
    const imageBase = b * inHeight * rowStride;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = Math.max(0, oy * strideHeight - padTop);
      const y1 = Math.min(inHeight, oy * strideHeight - padTop + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = Math.max(0, ox * strideWidth - padLeft);
        const x1 = Math.min(inWidth, ox * strideWidth - padLeft + filterWidth);
        const cornerBase = imageBase + y0 * rowStride + x0 * channels;
        for (let c = 0; c < channels; c++, dyIndex++) {
          let best = cornerBase + c;
          let bestValue = x[best];
          for (let y = y0; y < y1; y++) {
            let at = imageBase + y * rowStride + x0 * channels + c;
            for (let xx = x0; xx < x1; xx++, at += channels) {
              const value = x[at];
              if (value > bestValue || value !== value) {
                bestValue = value;
                best = at;
              }
            }
          }
          dx[best] += dy[dyIndex];
        }
      }
    }
  }
}

/** `routeToFirstMax` for the nets' 2x2 windows at stride 2 without padding: no bounds, no inner loops. */
export function routeToFirstMax2x2(
  x: Float32Array, dy: Float32Array, dx: Float32Array, info: backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const rowStride = inWidth * channels;
  let dyIndex = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      let topLeft = (b * inHeight + 2 * oy) * rowStride;
      for (let ox = 0; ox < outWidth; ox++, topLeft += 2 * channels) {
        for (let c = 0; c < channels; c++, dyIndex++) {
          const i0 = topLeft + c;
          const i1 = i0 + channels;
          const i2 = i0 + rowStride;
          const i3 = i2 + channels;
          let best = i0;
          let bestValue = x[i0]!;
          // Strict '>' keeps the first of tied maxima; a NaN takes the window (PyTorch's rule).
          let v = x[i1]!;
          if (v > bestValue || v !== v) { best = i1; bestValue = v; }
          v = x[i2]!;
          if (v > bestValue || v !== v) { best = i2; bestValue = v; }
          v = x[i3]!;
          if (v > bestValue || v !== v) { best = i3; }
          dx[best] = dy[dyIndex]!;
        }
      }
    }
  }
}

/**
 * `matMul` with a transpose flag: transpose explicitly, then the plain (XNNPACK) kernel, which is
 * an order of magnitude faster than the stock transposed path. Works for BatchMatMul and
 * _FusedMatMul alike (their transposed operands are `a` and `b`).
 */
export function untransposedMatMul(stock: StockKernels, kernelName: 'BatchMatMul' | '_FusedMatMul'): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return stock.get(kernelName)(args) as TensorInfo;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const swapLast = (t: TensorInfo): TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      const rank = perm.length;
      [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
      return transpose(stock, backend, t, perm);
    };
    const aPlain = transposeA ? swapLast(a) : a;
    const bPlain = transposeB ? swapLast(b) : b;
    const out = stock.get(kernelName)({
      inputs: { ...args.inputs, a: aPlain, b: bPlain },
      backend,
      attrs: { ...args.attrs, transposeA: false, transposeB: false },
    }) as TensorInfo;
    if (transposeA) dispose(backend, aPlain);
    if (transposeB) dispose(backend, bPlain);
    return out;
  };
}

/**
 * Products smaller than this (in multiply-adds x 2) run on the calling thread alone: handing half
 * to the helper thread costs 0.1-0.4 ms whatever the size, more than such a product takes whole.
 * The nets' last layer (256 x 256 x 10, 1.3 MFLOP per product, three per step) is one; measured on
 * a 2-core Xeon (bench/profile.ts, step 9's net): its three products took 1.13 ms per step split,
 * 0.37 ms whole.
 */
export const MIN_SPLIT_MATMUL_FLOP = 4e6;

/** Whether an m x k by k x n product is worth splitting between threads. */
export function worthSplitting(m: number, n: number, k: number): boolean {
  return 2 * m * n * k >= MIN_SPLIT_MATMUL_FLOP;
}

/**
 * `matMul` (plain and fused with bias and linear/ReLU activation) through native/train_kernels.c
 * for single matrices (batch 1, float32), transposes included: the rows of the product are split
 * between threads where the backend has a helper. Anything else takes `fallback`.
 */
export function nativeMatMul(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const { transposeA, transposeB, activation = 'linear' } = args.attrs as { transposeA: boolean; transposeB: boolean; activation?: string };
    const single = (t: TensorInfo): boolean => t.shape.length === 3 && t.shape[0] === 1 && t.dtype === 'float32';
    if (!single(a!) || !single(b!) || preluActivationWeights !== undefined || (activation !== 'linear' && activation !== 'relu')) {
      return fallback(args) as TensorInfo;
    }
    const [rowsA, colsA] = a!.shape.slice(1) as [number, number];
    const [rowsB, colsB] = b!.shape.slice(1) as [number, number];
    const [m, k] = transposeA ? [colsA, rowsA] : [rowsA, colsA];
    const n = transposeB ? rowsB : colsB;
    if (bias !== undefined && !(bias.shape.length === 1 && bias.shape[0] === n && bias.dtype === 'float32')) return fallback(args) as TensorInfo;
    const out = backend.makeOutput([1, m, n], 'float32');
    const kernels = nativeKernels(backend);
    const panelBytes = k * 16 * 4;
    // B^T packs straight into each thread's panels where its panels are whole; else it is transposed first, on one thread
    const packTransposed = transposeB && n % 16 === 0 && k % 4 === 0;
    const transposeFirst = transposeB && !packTransposed;
    withScratch(backend, 2 * panelBytes + (transposeFirst ? k * n * 4 : 0), (scratch) => {
      const transposed = scratch + 2 * panelBytes;
      if (transposeFirst) kernels.transpose_2d(heapOffset(backend, b!), transposed, n, k);
      const [aAt, bAt, biasAt, outAt] = [heapOffset(backend, a!), transposeFirst ? transposed : heapOffset(backend, b!), bias === undefined ? 0 : heapOffset(backend, bias), heapOffset(backend, out)];
      const [rowStride, kStride] = transposeA ? [1, m] : [k, 1];
      runOverBatch(backend, 'matmul', m, (first, count, half) => [
        aAt, bAt, biasAt, outAt, scratch + half * panelBytes, first, first + count, k, n, rowStride, kStride, activation === 'relu' ? 1 : 0,
        packTransposed ? 1 : 0,
      ], worthSplitting(m, n, k));
    });
    return out;
  };
}

/**
 * `sum` over the leading axes of a float32 tensor (bias gradients: over N, H, W of [N,H,W,C]):
 * one pass over the heap, row by row, into float64 accumulators (faster than the stock
 * transpose-then-reduce, and more accurate). Any other reduction uses the stock kernel.
 */
export function leadingAxesSum(stock: StockKernels, native = true): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const axes = util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return stock.get('Sum')(args) as TensorInfo;
    const kept = x.shape.slice(axes.length);
    const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
    const width = util.sizeFromShape(kept);
    if (native && width % 4 === 0) {
      withScratch(backend, width * 12, (scratch) => {
        nativeKernels(backend).sum_rows(heapOffset(backend, x), heapOffset(backend, out), scratch + width * 8, scratch,
          util.sizeFromShape(x.shape) / width, width);
      });
      return out;
    }
    const outValues = backend.typedArrayFromHeap(out) as Float32Array;
    sumRows(backend.typedArrayFromHeap(x) as Float32Array, outValues);
    return out;
  };
}

/** Column sums of `values` seen as rows of `columns.length`, written into `columns`. Exported for tests. */
export function sumRows(values: Float32Array, columns: Float32Array): void {
  const width = columns.length;
  const totals = new Float64Array(width);
  for (let start = 0; start < values.length; start += width) {
    for (let c = 0; c < width; c++) totals[c]! += values[start + c]!;
  }
  columns.set(totals);
}

/**
 * `Identity` without a copy: the output shares the input's heap block (reference counted), as the
 * cpu backend's Identity does. The engine clones every tensor it saves for the backward pass
 * through this kernel, and the stock wasm kernel copies each one (several ms per step). Sharing
 * is safe because no kernel writes into its inputs; variables take new data on `assign`.
 */
export function sharedIdentity(stock: StockKernels): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string') return stock.get('Identity')(args) as TensorInfo;
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/**
 * Adam's update of one variable in one native call (lib/adam-step.ts): the float32 operations of
 * TensorFlow.js's composed update, in its order, so the same bits. The scalar hyperparameters
 * reach the kernel as float32, as the composed ops' scalar tensors hold them: beta1, 1 - beta1,
 * beta2, 1 - beta2, epsilon and -learningRate, each rounded from the JavaScript number.
 */
export function adamStepKernel(): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { param, grad, m, v, c1, c2 } = args.inputs as Record<'param' | 'grad' | 'm' | 'v' | 'c1' | 'c2', TensorInfo>;
    const { beta1, beta2, epsilon, learningRate } = args.attrs as unknown as AdamStepAttrs;
    const same = [grad, m, v].every((t) => util.arraysEqual(t.shape, param.shape) && t.dtype === 'float32') && param.dtype === 'float32';
    if (!same || util.sizeFromShape(c1.shape) !== 1 || util.sizeFromShape(c2.shape) !== 1) {
      throw new Error(`${ADAM_STEP}: param, grad, m and v must be float32 of one shape, c1 and c2 scalars`);
    }
    const outputs = [0, 1, 2].map(() => backend.makeOutput(param.shape, 'float32'));
    const at = (t: TensorInfo): number => heapOffset(backend, t);
    nativeKernels(backend).adam_step(
      at(param), at(grad), at(m), at(v), at(outputs[0]!), at(outputs[1]!), at(outputs[2]!), util.sizeFromShape(param.shape),
      beta1, 1 - beta1, beta2, 1 - beta2, at(c1), at(c2), epsilon, -learningRate,
    );
    return outputs;
  };
}

/**
 * Adadelta's update of one variable in one native call (lib/adadelta-step.ts): the float32
 * operations of the composed update, in its order, so the same bits. rho, 1 - rho, epsilon and the
 * learning rate reach the kernel as float32, as the composed ops' scalar tensors hold them.
 */
export function adadeltaStepKernel(): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { param, grad, squareAvg, accDelta } = args.inputs as Record<'param' | 'grad' | 'squareAvg' | 'accDelta', TensorInfo>;
    const { rho, epsilon, learningRate } = args.attrs as unknown as AdadeltaStepAttrs;
    if (![param, grad, squareAvg, accDelta].every((t) => util.arraysEqual(t.shape, param.shape) && t.dtype === 'float32')) {
      throw new Error(`${ADADELTA_STEP}: param, grad, squareAvg and accDelta must be float32 of one shape`);
    }
    const outputs = [0, 1, 2].map(() => backend.makeOutput(param.shape, 'float32'));
    const at = (t: TensorInfo): number => heapOffset(backend, t);
    nativeKernels(backend).adadelta_step(
      at(param), at(grad), at(squareAvg), at(accDelta), at(outputs[0]!), at(outputs[1]!), at(outputs[2]!), util.sizeFromShape(param.shape),
      rho, 1 - rho, epsilon, learningRate,
    );
    return outputs;
  };
}

/** The heap as bytes; taken after any allocation, which may grow (and so replace) the buffer. */
function heapBytes(backend: BackendWasm): Uint8Array {
  return new Uint8Array((backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer);
}

/**
 * `slice` of a contiguous block (e.g. a run of whole images of a dataset): one copy inside the
 * heap. The stock kernel first reads the WHOLE input back out of the heap (`readSync`), which
 * for the 60,000 training images is a 188 MB copy per batch. Other slices use the stock kernel.
 */
export function contiguousSlice(stock: StockKernels): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: TensorInfo };
    const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
    const [begin_, size_] = slice_util.parseSliceParams(x as tf.TensorInfo as tf.Tensor, begin, size);
    if (x.dtype === 'string' || !slice_util.isSliceContinous(x.shape, begin_, size_)) return stock.get('Slice')(args) as TensorInfo;
    const bytesPerElement = util.bytesPerElement(x.dtype);
    const start = slice_util.computeFlatOffset(begin_, util.computeStrides(x.shape)) * bytesPerElement;
    const out = backend.makeOutput(size_, x.dtype);
    const from = heapOffset(backend, x) + start;
    heapBytes(backend).copyWithin(heapOffset(backend, out), from, from + util.sizeFromShape(size_) * bytesPerElement);
    return out;
  };
}

/**
 * `gather` along axis 0 without batch dims (batches of a dataset by shuffled index): one copy
 * per index inside the heap. The stock kernel takes milliseconds for a batch of 256 images.
 * Indices out of range throw, as the stock kernel does; other gathers use the stock kernel.
 */
export function gatherRows(stock: StockKernels): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
    const leading = util.parseAxisParam(axis, x.shape)[0] === 0 && (batchDims ?? 0) === 0;
    if (!leading || x.dtype === 'string' || indices.dtype !== 'int32' || x.shape.length === 0) return stock.get('GatherV2')(args) as TensorInfo;
    const rows = x.shape[0]!;
    const rowBytes = util.sizeFromShape(x.shape.slice(1)) * util.bytesPerElement(x.dtype);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const heap = heapBytes(backend);
    const at = backend.typedArrayFromHeap(indices) as Int32Array;
    const [xAt, outAt] = [heapOffset(backend, x), heapOffset(backend, out)];
    for (let i = 0; i < at.length; i++) {
      const row = at[i]!;
      if (!(row >= 0 && row < rows)) {
        backend.disposeData(out.dataId);
        throw new RangeError(`GatherV2: the index value ${row} is not in [0, ${rows - 1}]`);
      }
      heap.copyWithin(outAt + i * rowBytes, xAt + row * rowBytes, xAt + (row + 1) * rowBytes);
    }
    return out;
  };
}

/**
 * The one kernel the stock backend needs to train at all: the filter gradient through the stock
 * `Conv3DBackpropFilterV2`. Registered for the "stock" benchmark variant.
 */
export function conv2DBackpropFilterStock(stock: StockKernels): KernelFunc {
  return ({ inputs, backend: anyBackend, attrs }) => {
    const backend = anyBackend as BackendWasm;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const convInfo = filterGradConvInfo(x, attrs as unknown as tf.Conv2DBackpropFilterAttrs);
    return filterGradViaConv3D(stock, backend, x, dy, convInfo);
  };
}

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

/**
 * - 'tuned': everything in this module, native SIMD kernels (native/train_kernels.c) first;
 * - 'composed': the earlier set built only from stock XNNPACK kernels and JS loops (benchmarks);
 * - 'stock': only the filter gradient the stock backend lacks (benchmarks).
 */
export type KernelSet = 'tuned' | 'composed' | 'stock';

/** Which kernels each set installs, built from the saved stock kernels. */
function kernelsFor(set: KernelSet, stock: StockKernels): Record<string, KernelFunc> {
  if (set === 'stock') return { Conv2DBackpropFilter: conv2DBackpropFilterStock(stock) };
  if (set === 'composed') {
    return {
      Conv2DBackpropFilter: conv2DBackpropFilter(stock, false),
      Conv2DBackpropInput: conv2DBackpropInput(stock, false),
      MaxPoolGrad: maxPoolGrad(false),
      BatchMatMul: untransposedMatMul(stock, 'BatchMatMul'),
      _FusedMatMul: untransposedMatMul(stock, '_FusedMatMul'),
      Sum: leadingAxesSum(stock, false),
    };
  }
  return {
    Conv2DBackpropFilter: conv2DBackpropFilter(stock),
    Conv2DBackpropInput: conv2DBackpropInput(stock),
    MaxPoolGrad: maxPoolGrad(),
    BatchMatMul: nativeMatMul(untransposedMatMul(stock, 'BatchMatMul')),
    _FusedMatMul: nativeMatMul(untransposedMatMul(stock, '_FusedMatMul')),
    Sum: leadingAxesSum(stock),
    Identity: sharedIdentity(stock),
    Cast: sharedCast(stock),
    MaxPool: nativeMaxPool(stock),
    Slice: contiguousSlice(stock),
    GatherV2: gatherRows(stock),
    Conv2D: nativeConv2D(stock, 'Conv2D'),
    FusedConv2D: nativeConv2D(stock, 'FusedConv2D'),
    [ADAM_STEP]: adamStepKernel(),
    [ADADELTA_STEP]: adadeltaStepKernel(),
    [POOL_RELU]: poolReluKernel(),
    [POOL_RELU_GRAD]: poolReluGradKernel(),
    [INPUT_CONV_POOL_RELU]: inputConvPoolReluKernel(),
    [INPUT_CONV_POOL_RELU_GRAD]: inputConvPoolReluGradKernel(),
    [POOL_RELU_WHERE]: poolReluWhereKernel(),
    [CONV_POOL_RELU_GRAD]: convPoolReluGradKernel(),
  };
}

/**
 * Installs a kernel set for the wasm backend, replacing whatever an earlier call installed, and
 * returns the names it installed. The stock kernels are saved on the first call and restored
 * before each installation, so `installKernels('stock')` undoes `installKernels('tuned')`.
 */
export function createKernelInstaller(): (set: KernelSet) => string[] {
  const saved = new Map<string, KernelConfig | undefined>();
  const stock: StockKernels = {
    get(name) {
      const config = saved.has(name) ? saved.get(name) : tf.getKernel(name, BACKEND);
      if (config === undefined) throw new MissingKernelError(`the wasm backend has no stock ${name} kernel to build on: check the @tensorflow/tfjs-backend-wasm version (4.22 expected)`);
      return config.kernelFunc;
    },
  };
  const allNames = new Set([...Object.keys(kernelsFor('tuned', stock)), ...Object.keys(kernelsFor('stock', stock))]);
  return (set) => {
    for (const name of allNames) {
      if (!saved.has(name)) saved.set(name, tf.getKernel(name, BACKEND));
      if (tf.getKernel(name, BACKEND) !== undefined) tf.unregisterKernel(name, BACKEND);
      const original = saved.get(name);
      if (original !== undefined) tf.registerKernel(original);
    }
    const installed = kernelsFor(set, stock);
    for (const [kernelName, kernelFunc] of Object.entries(installed)) {
      const original = saved.get(kernelName);
      if (original !== undefined) tf.unregisterKernel(kernelName, BACKEND);
      // The stock setup (its cwrap) must still run when a new backend instance initialises,
      // because the replacement delegates to the stock function.
      tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc, setupFunc: original?.setupFunc, disposeFunc: original?.disposeFunc });
    }
    return Object.keys(installed);
  };
}
