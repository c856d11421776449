/**
 * Nets built fresh per run by `buildNet(net, seed)`: one of the ladder's four (`baseline`, `pooled`,
 * `slim`, `final`, exactly as the original study defines them, README "The steps") or any
 * net spec (lib/nets.ts), all by one forward pass built from the spec.
 *
 * Written in ops (tf.conv2d, tf.maxPool, tf.matMul) over plain tf.Variables rather than layers:
 * layers cannot draw PyTorch's init (uniform +-1/sqrt(fan_in) for biases too) nor drop whole
 * feature maps, and ops give full control of every step. Tensors are NHWC throughout; the
 * parameters keep PyTorch's names (`c1.weight`, `f1.bias`, ...) in TensorFlow layouts: conv
 * weights HWIO, linear weights [in, out].
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone ships no gradients (the @tensorflow/tfjs bundle registers them): training needs them
import './gradients';
import { makeRng, nextSeed, type Rng } from './random';
import { convName, ladderNameOf, netLabel, netShapes, netSpec, type NetRef, type NetSpec } from './nets';
import { convPoolRelu } from './conv-pool-relu';
import { inputConv, inputConvPoolRelu } from './input-conv';
import type { ReluOrder } from './pool-relu';

export interface ForwardMode {
  /** Dropout is active only when training, as in PyTorch's train()/eval(). */
  training: boolean;
  /** Seeds the dropout masks: same seed, same masks. Without it masks are unseeded. */
  seed?: number;
}

export interface Net {
  /** The ladder name ('final'), also for a spec equal to a ladder net; else the spec's label (lib/nets.ts netLabel). */
  name: string;
  /** What the net is: its layers, pools and dropout rates. */
  spec: NetSpec;
  /** PyTorch names -> variables in TensorFlow layouts (conv HWIO, linear [in, out]). */
  params: Record<string, tf.Variable>;
  /** Log-probabilities [B, 10] of a normalised NHWC batch [B, 28, 28, 1]; the caller disposes them. */
  forward(x: tf.Tensor4D, mode: ForwardMode): tf.Tensor2D;
  paramCount(): number;
  /** Frees the variables; the net is unusable afterwards. */
  dispose(): void;
}

/** A parameter in PyTorch layout, e.g. from a state_dict: `values` in row-major order of `shape`. */
export interface PytorchArray {
  shape: number[];
  values: Float32Array;
}

/** The weights given do not fit the net. */
export class WeightShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightShapeError';
  }
}

// ---------------------------------------------------------------------------------------------
// Parameters, in PyTorch terms (shapes derived from the spec by lib/nets.ts)

type ParamRole = 'conv' | 'linear' | 'flatten-linear' | 'bias';

export interface ParamInfo {
  name: string;
  role: ParamRole;
  /** Shape in PyTorch layout. */
  pytorchShape: number[];
  fanIn: number;
}

/** Every parameter of `net` in PyTorch's state_dict order, with its PyTorch shape and fan-in. */
export function parameterInfo(net: NetRef): ParamInfo[] {
  const shapes = netShapes(netSpec(net));
  const infos: ParamInfo[] = [];
  for (const { name, outChannels, inChannels, kernel } of shapes.convs) {
    const fanIn = inChannels * kernel * kernel;
    infos.push({ name: `${name}.weight`, role: 'conv', pytorchShape: [outChannels, inChannels, kernel, kernel], fanIn });
    infos.push({ name: `${name}.bias`, role: 'bias', pytorchShape: [outChannels], fanIn });
  }
  for (const layer of ['f1', 'f2'] as const) {
    const { outFeatures, inFeatures } = shapes[layer];
    const role = layer === 'f1' ? 'flatten-linear' : 'linear';
    infos.push({ name: `${layer}.weight`, role, pytorchShape: [outFeatures, inFeatures], fanIn: inFeatures });
    infos.push({ name: `${layer}.bias`, role: 'bias', pytorchShape: [outFeatures], fanIn: inFeatures });
  }
  return infos;
}

// ---------------------------------------------------------------------------------------------
// Layout conversion between PyTorch and TensorFlow.js (host arrays, no tensors)

function tensorflowShape(info: ParamInfo): number[] {
  const s = info.pytorchShape;
  switch (info.role) {
    case 'conv': // OIHW -> HWIO
      return [s[2]!, s[3]!, s[1]!, s[0]!];
    case 'linear':
    case 'flatten-linear': // [out, in] -> [in, out]
      return [s[1]!, s[0]!];
    case 'bias':
      return [...s];
  }
}

/**
 * Moves one parameter from PyTorch layout to ours. The two directions share the index map
 * `pytorchIndexOf(ours)`, so `toTensorflow` and `toPytorch` are exact inverses.
 */
function layoutIndexMap(info: ParamInfo, flattened: readonly [number, number, number]): Int32Array {
  const size = info.pytorchShape.reduce((a, b) => a * b, 1);
  const map = new Int32Array(size);
  if (info.role === 'bias') {
    for (let i = 0; i < size; i++) map[i] = i;
    return map;
  }
  if (info.role === 'conv') {
    const [outC, inC, kh, kw] = info.pytorchShape as [number, number, number, number];
    let ours = 0;
    for (let h = 0; h < kh; h++)
      for (let w = 0; w < kw; w++)
        for (let i = 0; i < inC; i++)
          for (let o = 0; o < outC; o++) map[ours++] = ((o * inC + i) * kh + h) * kw + w;
    return map;
  }
  const [outF, inF] = info.pytorchShape as [number, number];
  if (info.role === 'linear') {
    let ours = 0;
    for (let i = 0; i < inF; i++) for (let o = 0; o < outF; o++) map[ours++] = o * inF + i;
    return map;
  }
  // f1 reads the flattened feature map. PyTorch flattens NCHW as (C, H, W); we flatten NHWC as
  // (H, W, C). Our input row (h, w, c) must therefore take PyTorch's input column c*H*W + h*W + w,
  // or the loaded net computes something else entirely.
  const [height, width, channels] = flattened;
  if (height * width * channels !== inF) {
    throw new Error(`f1 expects ${inF} inputs but the feature map is ${height}x${width}x${channels}`);
  }
  let ours = 0;
  for (let h = 0; h < height; h++)
    for (let w = 0; w < width; w++)
      for (let c = 0; c < channels; c++) {
        const pytorchColumn = (c * height + h) * width + w;
        for (let o = 0; o < outF; o++) map[ours++] = o * inF + pytorchColumn;
      }
  return map;
}

function toTensorflow(values: Float32Array, map: Int32Array): Float32Array {
  const out = new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = values[map[i]!]!;
  return out;
}

function toPytorch(values: Float32Array, map: Int32Array): Float32Array {
  const out = new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) out[map[i]!] = values[i]!;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Building blocks

type Params = Record<string, tf.Variable>;

// Bias fused into the convolution and the matrix product: one pass over the output fewer (the
// wasm backend adds the bias inside its kernel), with the same gradients.
function convParams(params: Params, layer: string): { filter: tf.Tensor4D; bias: tf.Tensor1D } {
  return { filter: params[`${layer}.weight`] as tf.Tensor4D, bias: params[`${layer}.bias`] as tf.Tensor1D };
}

/** c1 on the images (lib/input-conv.ts: no gradient for the images); the others by tf.fused.conv2d. */
function conv(x: tf.Tensor4D, params: Params, layer: string): tf.Tensor4D {
  const { filter, bias } = convParams(params, layer);
  if (layer === 'c1') return inputConv(x, filter, bias);
  return tf.fused.conv2d({ x, filter, strides: 1, pad: 'valid', bias });
}

/**
 * A convolution with its ReLU and 2x2 max pool, in either order (the same values): where the
 * backend has the kernels, c1 runs as one kernel each way (lib/input-conv.ts), the others with
 * one backward kernel (lib/conv-pool-relu.ts).
 */
function pooledConv(x: tf.Tensor4D, params: Params, layer: string, order: ReluOrder): tf.Tensor4D {
  const { filter, bias } = convParams(params, layer);
  return layer === 'c1' ? inputConvPoolRelu(x, filter, bias, order) : convPoolRelu(x, filter, bias, order);
}

function linear(x: tf.Tensor2D, params: Params, layer: string): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: params[`${layer}.weight`] as tf.Tensor2D, bias: params[`${layer}.bias`] }) as tf.Tensor2D;
}

function maxPool2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.maxPool(x, 2, 2, 'valid');
}

/** NHWC -> [B, H*W*C] in (H, W, C) order; f1's weights were permuted to match (see above). */
function flatten(x: tf.Tensor4D): tf.Tensor2D {
  return tf.reshape(x, [x.shape[0], -1]);
}

/** Dropout for one forward pass: identity in eval mode; each call in training draws a fresh mask. */
type Dropout = <T extends tf.Tensor>(x: T, rate: number, noiseShape?: number[]) => T;

function makeDropout(mode: ForwardMode): Dropout {
  if (!mode.training) return (x) => x;
  // one seed per dropout layer, all derived from the pass's seed, so layers draw different masks
  const rng: Rng | null = mode.seed === undefined ? null : makeRng(mode.seed);
  return (x, rate, noiseShape) =>
    tf.dropout(x, rate, noiseShape, rng === null ? undefined : nextSeed(rng)) as typeof x;
}

/** Noise shape of PyTorch's Dropout2d on NHWC: one keep/drop draw per (sample, channel). */
function channelNoiseShape(x: tf.Tensor4D): number[] {
  return [x.shape[0], 1, 1, x.shape[3]];
}

/**
 * PyTorch's Dropout2d (training mode) for an NHWC batch: each feature map of each sample is
 * zeroed with probability `rate`, the kept ones scaled by 1/(1 - rate). The caller disposes the result.
 */
export function channelDropout(x: tf.Tensor4D, rate: number, seed?: number): tf.Tensor4D {
  return tf.dropout(x, rate, channelNoiseShape(x), seed) as tf.Tensor4D;
}

// #region net-forward
/**
 * The forward pass of any spec: each convolution with its ReLU and 2x2 max pool in the spec's
 * order (both orders give the same values, and run as fused kernels where the backend has them:
 * `pooledConv`), Dropout2d on the last map, then f1 + ReLU, dropout, f2 and log-softmax. A rate of 0 adds
 * no dropout op at all, so the dropout layers that exist draw the same seeds as they always did.
 */
function specForward(spec: NetSpec): (params: Params, x: tf.Tensor4D, dropout: Dropout) => tf.Tensor2D {
  return (p, x, dropout) => {
    let h = x;
    spec.convs.forEach((c, i) => {
      const layer = convName(i);
      if (c.pool === 'none') h = c.relu ? tf.relu(conv(h, p, layer)) : conv(h, p, layer);
      else if (!c.relu) h = maxPool2(conv(h, p, layer)); // a pool without a ReLU (baseline's c2)
      else if (c.pool === 'after-relu') h = pooledConv(h, p, layer, 'after-relu'); // maxPool2(tf.relu(conv(h)))
      else h = pooledConv(h, p, layer, 'before-relu'); // tf.relu(maxPool2(conv(h))): ReLU on a map 4x smaller
    });
    if (spec.dropout2d > 0) h = dropout(h, spec.dropout2d, channelNoiseShape(h)); // Dropout2d: whole feature maps
    let f = tf.relu(linear(flatten(h), p, 'f1'));
    if (spec.dropout > 0) f = dropout(f, spec.dropout);
    return tf.logSoftmax(linear(f, p, 'f2')); // [B, 10]
  };
}
// #endregion net-forward

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * A fresh net with PyTorch's default init (Conv2d and Linear: weight and bias uniform in
 * +-1/sqrt(fan_in)), drawn in PyTorch layout from `seed` and converted like loaded weights.
 * The caller disposes the net.
 */
export function buildNet(net: NetRef, seed: number): Net {
  const spec = netSpec(net);
  const { flattened } = netShapes(spec);
  const rng = makeRng(seed);
  const params: Params = {};
  for (const info of parameterInfo(spec)) {
    const bound = 1 / Math.sqrt(info.fanIn);
    const values = new Float32Array(info.pytorchShape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = (2 * rng() - 1) * bound;
    const data = toTensorflow(values, layoutIndexMap(info, flattened));
    // no variable name: TF.js names must be unique engine-wide and two nets may coexist
    params[info.name] = tf.tidy(() => tf.variable(tf.tensor(data, tensorflowShape(info)), true));
  }
  return makeNet(net, spec, params);
}

function makeNet(net: NetRef, spec: NetSpec, params: Params): Net {
  const forward = specForward(spec);
  return {
    name: typeof net === 'string' ? net : (ladderNameOf(spec) ?? netLabel(spec)),
    spec,
    params,
    forward: (x, mode) => tf.tidy(() => forward(params, x, makeDropout(mode))),
    paramCount: () => Object.values(params).reduce((sum, v) => sum + v.size, 0),
    dispose: () => {
      for (const v of Object.values(params)) v.dispose();
    },
  };
}

/**
 * Copies weights given in PyTorch layout into `net` (conv OIHW -> HWIO, linear [out, in] ->
 * [in, out], and f1's input columns moved from PyTorch's (C, H, W) flatten order to our (H, W, C)).
 * Every parameter of the net must be present with its PyTorch shape.
 */
export function loadPytorchWeights(net: Net, weights: Record<string, PytorchArray>): void {
  const { flattened } = netShapes(net.spec);
  for (const info of parameterInfo(net.spec)) {
    const given = weights[info.name];
    if (!given) throw new WeightShapeError(`no "${info.name}" in the weights given: pass every parameter of ${net.name}`);
    if (given.shape.join(',') !== info.pytorchShape.join(',')) {
      throw new WeightShapeError(
        `${info.name} has shape [${given.shape.join(', ')}], ${net.name} needs [${info.pytorchShape.join(', ')}] (PyTorch layout)`,
      );
    }
    const data = toTensorflow(given.values, layoutIndexMap(info, flattened));
    tf.tidy(() => net.params[info.name]!.assign(tf.tensor(data, tensorflowShape(info))));
  }
}

/**
 * Tensors keyed by parameter name (the parameters themselves, or their gradients), read back
 * in PyTorch layout: the inverse of loadPytorchWeights. Does not dispose `tensors`.
 */
export async function toPytorchLayout(
  net: Net,
  tensors: Record<string, tf.Tensor>,
): Promise<Record<string, PytorchArray>> {
  const { flattened } = netShapes(net.spec);
  const out: Record<string, PytorchArray> = {};
  for (const info of parameterInfo(net.spec)) {
    const tensor = tensors[info.name];
    if (!tensor) continue;
    const values = (await tensor.data()) as Float32Array;
    out[info.name] = { shape: [...info.pytorchShape], values: toPytorch(values, layoutIndexMap(info, flattened)) };
  }
  return out;
}

/** Mean negative log-likelihood of int32 `labels` [B] under `logProbs` [B, classes]; caller disposes. */
export function nllLoss(logProbs: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  if (labels.dtype !== 'int32') {
    throw new TypeError(`labels must be int32, got ${labels.dtype}: cast them with tf.cast(labels, 'int32')`);
  }
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(labels, logProbs.shape[1])), 1); // [B]
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/**
 * The training loss with label smoothing `smoothing` (PyTorch's CrossEntropyLoss semantics): the
 * mean over the batch of -sum_k target_k log p_k, target = (1 - s) one-hot + s / classes. With
 * s = 0 it is `nllLoss`, the same ops and the same numbers.
 */
// #region label-smoothing
export function smoothedNllLoss(logProbs: tf.Tensor2D, labels: tf.Tensor1D, smoothing: number): tf.Scalar {
  if (!(smoothing >= 0 && smoothing < 1)) throw new RangeError(`label smoothing must be in [0, 1), got ${smoothing}`);
  if (smoothing === 0) return nllLoss(logProbs, labels);
  if (labels.dtype !== 'int32') {
    throw new TypeError(`labels must be int32, got ${labels.dtype}: cast them with tf.cast(labels, 'int32')`);
  }
  return tf.tidy(() => {
    const classes = logProbs.shape[1];
    const target = tf.add(tf.mul(tf.oneHot(labels, classes), 1 - smoothing), smoothing / classes);
    return tf.neg(tf.mean(tf.sum(tf.mul(logProbs, target), 1))) as tf.Scalar;
  });
}
// #endregion label-smoothing

/**
 * The mean NLL of one batch and its gradient for every parameter, keyed by parameter name
 * (TensorFlow layouts, like `net.params`). The caller disposes `loss` and every gradient.
 */
export function lossAndGradients(
  net: Net,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  mode: ForwardMode,
): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const names = Object.keys(net.params);
  const variables = names.map((n) => net.params[n]!);
  const { value, grads } = tf.variableGrads(() => nllLoss(net.forward(x, mode), labels), variables);
  const byParam: Record<string, tf.Tensor> = {};
  names.forEach((n, i) => {
    byParam[n] = grads[variables[i]!.name]!;
  });
  return { loss: value as tf.Scalar, grads: byParam };
}
