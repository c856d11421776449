/**
 * The near-tie analysis the parity suite relies on (test/pool-ties.ts, test/pool-capture.ts): it
 * must find no flip where the backend chose as float64 does, refuse a flip that rounding cannot
 * explain, and reroute exactly the gradient a flip moves. Hand-made inputs, hand-computed answers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../lib/gradients';
import { capturePoolGradients } from './pool-capture';
import {
  assertNearTies,
  choicesFromRouting,
  closestResolution,
  conv1Float64,
  findPoolFlips,
  rerouteConvWeightGradient,
  type Float64Conv,
  type Nchw,
} from './pool-ties';

await tf.setBackend('cpu');

/** A one-sample, one-channel 2x2 conv output (one pool window) with the given values and bounds. */
function window(values: number[], rounding = [1e-7, 1e-7, 1e-7, 1e-7]): Float64Conv {
  return { shape: [1, 2, 2, 1], values: Float64Array.from(values), rounding: Float64Array.from(rounding) };
}

describe('conv1Float64', () => {
  test('computes conv + bias and the float32 rounding bound gamma_(n+1) * sum |terms|', () => {
    // 1 sample, 1 channel, 3x3 image; one 2x2 filter with bias 0.5
    const images: Nchw = { shape: [1, 1, 3, 3], values: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]) };
    const conv = conv1Float64(images, { weight: { shape: [1, 1, 2, 2], values: Float32Array.from([1, 0, 0, -1]) }, bias: { values: Float32Array.from([0.5]) } });
    assert.deepEqual(conv.shape, [1, 2, 2, 1]);
    // x[r][c] - x[r+1][c+1] + 0.5 = -4 + 0.5 everywhere
    assert.deepEqual(Array.from(conv.values), [-3.5, -3.5, -3.5, -3.5]);
    const u = 2 ** -24;
    const gamma = (5 * u) / (1 - 5 * u); // 4 products and the bias
    assert.ok(Math.abs(conv.rounding[0]! - gamma * (1 + 5 + 0.5)) < 1e-20);
    assert.ok(Math.abs(conv.rounding[3]! - gamma * (5 + 9 + 0.5)) < 1e-20);
  });
});

describe('choicesFromRouting', () => {
  test('reads the one routed element of each window', () => {
    // shape [1, 2, 4, 1]: two windows; element 3 of the first, element 0 of the second
    const routing = Float32Array.from([0, 0, 1, 0, 0, 1, 0, 0]);
    assert.deepEqual(Array.from(choicesFromRouting(routing, [1, 2, 4, 1])), [3, 0]);
  });

  test('throws when a window routes nowhere or to two elements', () => {
    assert.throws(() => choicesFromRouting(Float32Array.from([0, 0, 0, 0]), [1, 2, 2, 1]), /routes its gradient to 0 elements/);
    assert.throws(() => choicesFromRouting(Float32Array.from([1, 0, 0, 1]), [1, 2, 2, 1]), /routes its gradient to 2 elements/);
  });
});

describe('findPoolFlips and assertNearTies', () => {
  test('no flip where the backend chose the float64 maximum', () => {
    assert.deepEqual(findPoolFlips(window([0.1, 0.9, 0.3, 0.2]), Int8Array.from([1])), []);
  });

  test('a window that is not positive passes no gradient down and is no flip', () => {
    assert.deepEqual(findPoolFlips(window([-0.1, -0.9, -0.3, -0.2]), Int8Array.from([2])), []);
  });

  test('a flip claimed where the values are far apart is refused', () => {
    const flips = findPoolFlips(window([0.9, 0.5, 0.2, 0.1]), Int8Array.from([1]));
    assert.equal(flips.length, 1);
    assert.equal(flips[0]!.ours, 1);
    assert.equal(flips[0]!.theirs, 0);
    assert.ok(Math.abs(flips[0]!.gap - 0.4) < 1e-15);
    assert.throws(() => assertNearTies(flips), /not a near-tie, rounding cannot explain it/);
  });

  test('a gap just over the rounding bound is refused, just under it accepted', () => {
    const over = findPoolFlips(window([0.5 + 2.1e-7, 0.5, 0, 0]), Int8Array.from([1]));
    assert.throws(() => assertNearTies(over), /rounding cannot explain it/);
    const under = findPoolFlips(window([0.5 + 1.9e-7, 0.5, 0, 0]), Int8Array.from([1]));
    assert.equal(under.length, 1);
    assert.doesNotThrow(() => assertNearTies(under));
  });

  test('a tie whose chosen element the ReLU would close is refused', () => {
    const flips = findPoolFlips(window([1e-8, -1e-8, -1, -1]), Int8Array.from([1]));
    assert.equal(flips.length, 1);
    assert.throws(() => assertNearTies(flips), /chosen element is not positive/);
  });
});

describe('rerouteConvWeightGradient and closestResolution', () => {
  // a 1x1 conv over a 4x4 image: conv output = image, so patches are single pixels
  const images: Nchw = { shape: [1, 1, 4, 4], values: Float32Array.from([1, 2, 5, 6, 3, 4, 7, 8, 9, 10, 13, 14, 11, 12, 15, 16]) };
  const weightShape = [1, 1, 1, 1];
  const convShape = [1, 4, 4, 1];
  const upstream = Float32Array.from([0.5, -2, 0.25, 1]); // pool output [1, 2, 2, 1]
  const flipA = { sample: 0, row: 0, col: 0, channel: 0, ours: 1, theirs: 3, oursValue: 1, theirsValue: 1, gap: 0, bound: 1 };
  const flipB = { sample: 0, row: 1, col: 1, channel: 0, ours: 0, theirs: 2, oursValue: 1, theirsValue: 1, gap: 0, bound: 1 };

  test('moves g * (pixel at ours - pixel at theirs) into the weight gradient', () => {
    // window (0, 0): ours = element 1 -> pixel 2, theirs = element 3 -> pixel 4; g = 0.5
    const one = rerouteConvWeightGradient(Float32Array.from([10]), weightShape, images, [flipA], upstream, convShape);
    assert.equal(one[0], 10 + 0.5 * (2 - 4));
    // window (1, 1): ours = element 0 -> pixel 13, theirs = element 2 -> pixel 15; g = 1
    const both = rerouteConvWeightGradient(Float32Array.from([10]), weightShape, images, [flipA, flipB], upstream, convShape);
    assert.equal(both[0], 10 + 0.5 * (2 - 4) + 1 * (13 - 15));
    assert.equal(rerouteConvWeightGradient(Float32Array.from([10]), weightShape, images, [], upstream, convShape)[0], 10);
  });

  test('finds which windows PyTorch resolved unlike this backend', () => {
    const got = [10 + 1 * (13 - 15)]; // only window (1, 1) rerouted
    const best = closestResolution(got, Float32Array.from([10]), weightShape, images, [flipA, flipB], upstream, convShape);
    assert.deepEqual(best.rerouted, [flipB]);
    assert.equal(best.error, 0);
    const none = closestResolution([10], Float32Array.from([10]), weightShape, images, [flipA, flipB], upstream, convShape);
    assert.deepEqual(none.rerouted, []);
  });
});

describe('capturePoolGradients', () => {
  test("records a real max pool's upstream gradient and routing, and restores the gradient", () => {
    const original = tf.getGradient('MaxPool');
    const x = tf.tensor4d([1, 7, 3, 2, 5, 4, 8, 6], [1, 2, 4, 1]);
    const { result, pools } = capturePoolGradients(() =>
      tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid'), tf.tensor4d([3, -1], [1, 1, 2, 1]))))(x),
    );
    assert.equal(pools.length, 1);
    assert.deepEqual(pools[0]!.inputShape, [1, 2, 4, 1]);
    assert.deepEqual(Array.from(pools[0]!.upstream), [3, -1]);
    // window 1: [1, 7 / 5, 4] -> 7 (element 1); window 2: [3, 2 / 8, 6] -> 8 (element 2)
    assert.deepEqual(Array.from(pools[0]!.routing), [0, 1, 0, 0, 0, 0, 1, 0]);
    assert.deepEqual(Array.from(result.dataSync()), [0, 3, 0, 0, 0, 0, -1, 0]);
    assert.equal(tf.getGradient('MaxPool'), original);
    tf.dispose([x, result]);
  });
});
