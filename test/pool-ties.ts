/**
 * Near-ties in the 2x2 max pool that reads conv1's output, and what they do to conv1's weight
 * gradient. Plain float64 JavaScript, no tensors.
 *
 * Two float32 engines can compute the same conv1 output to within rounding yet disagree on which
 * of two nearly equal values in a pool window is the larger; the window's upstream gradient then
 * reaches conv1 at a different position, and conv1's weight gradient moves by g * (difference of
 * the two input patches), far more than rounding elsewhere. The parity tests use this module to
 * PROVE such a flip instead of loosening a tolerance:
 * 1. `conv1Float64`: conv1 (+bias) in float64 from the fixture weights, with a rigorous bound on
 *    how far any float32 evaluation of each output can be from it;
 * 2. `findPoolFlips`: the windows where the backend's chosen element differs from the float64
 *    argmax (the choice exact arithmetic makes);
 * 3. `assertNearTies`: each such window's float64 gap lies within the two candidates' rounding
 *    bounds, i.e. float32 rounding alone can reverse the order (else it throws: no excuse);
 * 4. `rerouteConvWeightGradient`: the reference gradient with flipped windows' upstream gradient
 *    moved from the float64 argmax to the backend's choice;
 * 5. `closestResolution`: PyTorch's own float32 forward resolves each of these near-ties too, and
 *    not always as float64 does (on the fixtures' `pooled` case it sides with wasm in some), so in
 *    each flipped window PyTorch's choice is taken as unknown between the two tied candidates:
 *    every resolution is tried and the one whose rerouted reference is nearest ours returned.
 *    The freedom is only ever in windows proven tied by step 3, and the caller still applies the
 *    README tolerance to the result.
 *
 * Conventions: images NCHW as the fixtures store them, conv weights OIHW (PyTorch), the conv
 * output and pool tensors NHWC as TensorFlow.js computes them. Windows are 2x2, stride 2, 'valid';
 * a window element is numbered 0..3 in row-major order.
 */

import { relativeError } from './relative-error';

/** float32's unit roundoff, 2^-24. */
const UNIT_ROUNDOFF = 2 ** -24;

export interface Nchw {
  shape: [number, number, number, number];
  values: Float32Array;
}

export interface ConvWeights {
  /** OIHW [out, in, k, k]. */
  weight: { shape: number[]; values: Float32Array };
  bias: { values: Float32Array };
}

/** Conv output in float64, NHWC, with a per-element bound on the float32 rounding error. */
export interface Float64Conv {
  shape: [number, number, number, number];
  values: Float64Array;
  /** |float32 result - exact| <= rounding[i] for any summation order (gamma_{n+1} * sum of |terms|). */
  rounding: Float64Array;
}

export interface PoolFlip {
  /** The window: sample, pool-output row and column, channel. */
  sample: number;
  row: number;
  col: number;
  channel: number;
  /** Window element (0..3) the backend routed the gradient to. */
  ours: number;
  /** Window element (0..3) holding the float64 maximum. */
  theirs: number;
  oursValue: number;
  theirsValue: number;
  /** Float64 gap theirsValue - oursValue (>= 0). */
  gap: number;
  /** Largest gap float32 rounding can reverse: the two candidates' rounding bounds added. */
  bound: number;
}

/** Stride-1 'valid' convolution plus bias in float64, and its float32 rounding bound. */
export function conv1Float64(images: Nchw, conv: ConvWeights): Float64Conv {
  const [batch, inChannels, height, width] = images.shape;
  const [outChannels, weightIn, kernel, kernelW] = conv.weight.shape as [number, number, number, number];
  if (weightIn !== inChannels || kernel !== kernelW) {
    throw new Error(`conv weight [${conv.weight.shape.join(', ')}] does not fit images [${images.shape.join(', ')}]`);
  }
  const outH = height - kernel + 1;
  const outW = width - kernel + 1;
  const terms = inChannels * kernel * kernel + 1; // products and the bias
  const gamma = (terms * UNIT_ROUNDOFF) / (1 - terms * UNIT_ROUNDOFF);
  const values = new Float64Array(batch * outH * outW * outChannels);
  const rounding = new Float64Array(values.length);
  const w = conv.weight.values;
  const x = images.values;
  for (let n = 0; n < batch; n++)
    for (let r = 0; r < outH; r++)
      for (let c = 0; c < outW; c++)
        for (let o = 0; o < outChannels; o++) {
          const bias = conv.bias.values[o]!;
          let sum = bias;
          let magnitude = Math.abs(bias);
          for (let i = 0; i < inChannels; i++)
            for (let a = 0; a < kernel; a++)
              for (let b = 0; b < kernel; b++) {
                // float32 x float32 is exact in float64
                const term = w[((o * inChannels + i) * kernel + a) * kernel + b]! * x[((n * inChannels + i) * height + r + a) * width + c + b]!;
                sum += term;
                magnitude += Math.abs(term);
              }
          const at = ((n * outH + r) * outW + c) * outChannels + o;
          values[at] = sum;
          rounding[at] = gamma * magnitude;
        }
  return { shape: [batch, outH, outW, outChannels], values, rounding };
}

/** NHWC index of window element `element` (0..3) of pool window (row, col). */
function elementIndex(shape: readonly number[], sample: number, row: number, col: number, channel: number, element: number): number {
  const [, height, width, channels] = shape as [number, number, number, number];
  const r = 2 * row + (element >> 1);
  const c = 2 * col + (element & 1);
  if (r >= height || c >= width) throw new RangeError('window element outside the map');
  return ((sample * height + r) * width + c) * channels + channel;
}

function poolShape(shape: readonly number[]): [number, number, number, number] {
  const [batch, height, width, channels] = shape as [number, number, number, number];
  return [batch, Math.floor(height / 2), Math.floor(width / 2), channels];
}

/**
 * For every pool window, the element (0..3) the backend sends the gradient to, read from its
 * routing: the max pool's input gradient for an upstream gradient of ones (NHWC, same shape as the
 * pool input). Throws unless each window routes to exactly one element.
 */
export function choicesFromRouting(routing: Float32Array, inputShape: readonly number[]): Int8Array {
  const [batch, rows, cols, channels] = poolShape(inputShape);
  const choices = new Int8Array(batch * rows * cols * channels);
  let at = 0;
  for (let n = 0; n < batch; n++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++)
        for (let ch = 0; ch < channels; ch++) {
          const hits = [0, 1, 2, 3].filter((e) => routing[elementIndex(inputShape, n, r, c, ch, e)] !== 0);
          if (hits.length !== 1) {
            throw new Error(`pool window (${n}, ${r}, ${c}, ${ch}) routes its gradient to ${hits.length} elements, not 1`);
          }
          choices[at++] = hits[0]!;
        }
  return choices;
}

/**
 * The windows whose float64 maximum is positive (others pass no gradient down to conv1, whatever
 * element is chosen: the ReLU before or after the pool closes them) and where the backend's choice
 * `ours` (from choicesFromRouting) is not the float64 argmax.
 */
export function findPoolFlips(reference: Float64Conv, ours: Int8Array): PoolFlip[] {
  const [batch, rows, cols, channels] = poolShape(reference.shape);
  if (ours.length !== batch * rows * cols * channels) {
    throw new Error(`${ours.length} choices for ${batch * rows * cols * channels} pool windows`);
  }
  const flips: PoolFlip[] = [];
  let at = 0;
  for (let n = 0; n < batch; n++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++)
        for (let ch = 0; ch < channels; ch++) {
          const index = (e: number): number => elementIndex(reference.shape, n, r, c, ch, e);
          let theirs = 0;
          for (let e = 1; e < 4; e++) if (reference.values[index(e)]! > reference.values[index(theirs)]!) theirs = e;
          const chosen = ours[at++]!;
          const theirsValue = reference.values[index(theirs)]!;
          if (theirsValue <= 0 || chosen === theirs) continue;
          const oursValue = reference.values[index(chosen)]!;
          flips.push({
            sample: n, row: r, col: c, channel: ch, ours: chosen, theirs, oursValue, theirsValue,
            gap: theirsValue - oursValue,
            bound: reference.rounding[index(chosen)]! + reference.rounding[index(theirs)]!,
          });
        }
  return flips;
}

function describeFlip(f: PoolFlip): string {
  return `window (sample ${f.sample}, row ${f.row}, col ${f.col}, channel ${f.channel}): element ${f.ours} ` +
    `(${f.oursValue}) chosen over ${f.theirs} (${f.theirsValue}), float64 gap ${f.gap.toExponential(3)}, ` +
    `float32 rounding bound ${f.bound.toExponential(3)}`;
}

/**
 * Throws unless every flip is a genuine near-tie: both candidates positive (so a ReLU on either
 * side of the pool passes both) and their float64 gap within the float32 rounding bound.
 */
export function assertNearTies(flips: readonly PoolFlip[]): void {
  for (const flip of flips) {
    if (!(flip.oursValue > 0)) throw new Error(`not a near-tie, the chosen element is not positive: ${describeFlip(flip)}`);
    if (!(flip.gap <= flip.bound)) throw new Error(`not a near-tie, rounding cannot explain it: ${describeFlip(flip)}`);
  }
}

/** One line per flip, for test messages. */
export function describeFlips(flips: readonly PoolFlip[]): string {
  return flips.map(describeFlip).join('; ');
}

/**
 * The reference conv weight gradient (OIHW) with each flipped window's upstream gradient g (the
 * pool-output gradient, NHWC `upstream`) moved from the float64 argmax to the backend's element:
 * dW[o, i, a, b] += g * (x at ours + (a, b) - x at theirs + (a, b)). conv1 reads the images, so
 * nothing below it changes, and its bias gradient does not (the same g, another position).
 */
export function rerouteConvWeightGradient(
  reference: Float32Array,
  weightShape: readonly number[],
  images: Nchw,
  flips: readonly PoolFlip[],
  upstream: Float32Array,
  convShape: readonly number[],
): Float64Array {
  const [, inChannels, kernel] = weightShape as [number, number, number, number];
  const [, , height, width] = images.shape;
  const [, rows, cols, channels] = poolShape(convShape);
  const corrected = Float64Array.from(reference);
  for (const f of flips) {
    const g = upstream[((f.sample * rows + f.row) * cols + f.col) * channels + f.channel]!;
    const origin = (e: number): [number, number] => [2 * f.row + (e >> 1), 2 * f.col + (e & 1)];
    const [oursR, oursC] = origin(f.ours);
    const [theirsR, theirsC] = origin(f.theirs);
    for (let i = 0; i < inChannels; i++)
      for (let a = 0; a < kernel; a++)
        for (let b = 0; b < kernel; b++) {
          const pixel = (r: number, c: number): number => images.values[((f.sample * inChannels + i) * height + r + a) * width + c + b]!;
          const k = ((f.channel * inChannels + i) * kernel + a) * kernel + b;
          corrected[k] = corrected[k]! + g * (pixel(oursR, oursC) - pixel(theirsR, theirsC));
        }
  }
  return corrected;
}

/** More flipped windows than this are not searched (2^n resolutions): the check fails instead. */
export const MAX_SEARCHED_FLIPS = 12;

/**
 * Of the 2^n ways PyTorch may have resolved the n flipped windows (each like float64, or like this
 * backend), the one whose rerouted reference gradient is nearest `got`: the windows rerouted (those
 * PyTorch resolved like float64, so the gradient moves to our element) and the relative error left.
 * The empty set is the plain comparison.
 */
export function closestResolution(
  got: ArrayLike<number>,
  reference: Float32Array,
  weightShape: readonly number[],
  images: Nchw,
  flips: readonly PoolFlip[],
  upstream: Float32Array,
  convShape: readonly number[],
): { rerouted: PoolFlip[]; error: number } {
  if (flips.length > MAX_SEARCHED_FLIPS) {
    throw new Error(`${flips.length} flipped pool windows: more than the ${MAX_SEARCHED_FLIPS} whose resolutions are searched`);
  }
  let best: { rerouted: PoolFlip[]; error: number } = { rerouted: [], error: Infinity };
  for (let mask = 0; mask < 1 << flips.length; mask++) {
    const rerouted = flips.filter((_, i) => (mask >> i) & 1);
    const error = relativeError(got, rerouteConvWeightGradient(reference, weightShape, images, rerouted, upstream, convShape));
    if (error < best.error) best = { rerouted, error };
  }
  return best;
}
