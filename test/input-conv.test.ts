/**
 * The first layer with its pool and ReLU as one kernel each way (lib/input-conv.ts, the wasm
 * backend's tuned set, on two threads): the same values, window positions and gradients as the
 * composed ops on TensorFlow.js's cpu backend, in either ReLU order. With values on a coarse grid
 * every sum is exact, so the two must agree bit for bit, ties included (a flat background makes
 * many); with random values, within float32 rounding. A NaN gives the same NaNs as the composed
 * wasm kernels; other shapes and backends run the composed ops; the raw kernel refuses what it
 * cannot take.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../lib/gradients';
import { INPUT_CONV_POOL_RELU, INPUT_CONV_POOL_RELU_GRAD, inputConvPoolRelu, WINDOW_POSITIONS_PER_ELEMENT } from '../lib/input-conv';
import type { ReluOrder } from '../lib/pool-relu';
import { setupWasm } from '../lib/wasm/setup';
import { assertSameNaNs, firstMaxPositions, keptPositions, kernelsRun, type LayerData, layerValues, onWasmAndCpu, ORDERS, relativeError, withoutKernel } from './fused-layer-support';

tf.env().set('PROD', true);

interface Layer {
  n: number;
  side: number;
  kernel: number;
  out: number;
}

/** The ladder's first layers (5x5 to 24 maps: final; 3x3 to 32: pooled), an odd map (25x25, its last row and column unpooled) and a single image. */
const LAYERS: Layer[] = [
  { n: 5, side: 28, kernel: 5, out: 24 },
  { n: 4, side: 28, kernel: 3, out: 32 },
  { n: 3, side: 28, kernel: 4, out: 8 },
  { n: 1, side: 9, kernel: 3, out: 16 },
];

function dataFor(layer: Layer, step: number): LayerData {
  const { n, side, kernel, out } = layer;
  const pooled = Math.floor((side - kernel + 1) / 2);
  return {
    x: layerValues(n * side * side, 1, step),
    filter: layerValues(kernel * kernel * out, 2, step),
    bias: layerValues(out, 3, step, 0.5).map((v, i) => (i === 0 ? -100 : v)), // channel 0: every window below 0, nothing passes
    upstream: layerValues(n * pooled * pooled * out, 4, step),
  };
}

/** The layer's value and its gradients (filter, bias) for the upstream gradient, on the active backend. */
function run(layer: Layer, data: LayerData, order: ReluOrder) {
  return tf.tidy(() => {
    const { n, side, kernel, out } = layer;
    const x = tf.tensor4d(data.x, [n, side, side, 1]);
    const filter = tf.tensor4d(data.filter, [kernel, kernel, 1, out]);
    const bias = tf.tensor1d(data.bias);
    const y = inputConvPoolRelu(x, filter, bias, order);
    const upstream = tf.tensor(data.upstream, y.shape);
    const [dFilter, dBias] = tf.grads((f: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(inputConvPoolRelu(x, f as tf.Tensor4D, b as tf.Tensor1D, order), upstream)))([filter, bias]);
    return { shape: y.shape, y: y.dataSync() as Float32Array, dFilter: dFilter!.dataSync() as Float32Array, dBias: dBias!.dataSync() as Float32Array };
  });
}

describe('the first layer, its pool and ReLU in one kernel each way', () => {
  before(async () => {
    await setupWasm({ threads: 2 });
  });

  for (const layer of LAYERS) {
    for (const order of ORDERS) {
      const label = `${layer.n} images ${layer.side}x${layer.side}, ${layer.kernel}x${layer.kernel} to ${layer.out}, ${order}`;
      test(`on a grid: wasm fused = cpu composed bit for bit, ${label}`, async () => {
        const data = dataFor(layer, 0.25);
        await tf.setBackend('wasm');
        assert.deepEqual(await kernelsRun(() => tf.tidy(() => inputConvPoolRelu(
          tf.zeros([layer.n, layer.side, layer.side, 1]), tf.zeros([layer.kernel, layer.kernel, 1, layer.out]), tf.zeros([layer.out]), order))), [INPUT_CONV_POOL_RELU]);
        const { fused, composed } = await onWasmAndCpu(() => run(layer, data, order));
        assert.deepEqual(fused.shape, composed.shape);
        assert.deepEqual([...fused.y], [...composed.y], 'values');
        assert.deepEqual([...fused.dFilter], [...composed.dFilter], 'filter gradient');
        assert.deepEqual([...fused.dBias], [...composed.dBias], 'bias gradient');
        assert.equal(composed.dBias[0], 0, 'channel 0 passes nothing');
        const blocked = composed.y.filter((v) => v === 0).length;
        // channel 0 and some windows of the others
        assert.ok(blocked > composed.y.length / layer.out && blocked < composed.y.length / 2, `windows blocked by the ReLU: ${blocked} of ${composed.y.length}`);
      });
    }
    test(`random values: wasm fused = cpu composed within float32 rounding, ${layer.n} images, ${layer.kernel}x${layer.kernel} to ${layer.out}`, async () => {
      const data = dataFor(layer, 0);
      const { fused, composed } = await onWasmAndCpu(() => run(layer, data, 'before-relu'));
      for (const part of ['y', 'dFilter', 'dBias'] as const) {
        const error = relativeError(fused[part], composed[part]);
        assert.ok(error <= 1e-5, `${part}: relative error ${error}`);
      }
    });
  }

  test('the positions kept are each window\'s first maximum, four to an int32', async () => {
    const layer = LAYERS[0]!;
    const data = dataFor(layer, 0.25);
    await tf.setBackend('cpu');
    const map = tf.tidy(() => {
      const conv = tf.conv2d(tf.tensor4d(data.x, [layer.n, layer.side, layer.side, 1]), tf.tensor4d(data.filter, [layer.kernel, layer.kernel, 1, layer.out]), 1, 'valid');
      return { shape: conv.shape, values: tf.add(conv, tf.tensor1d(data.bias)).dataSync() as Float32Array };
    });
    const expected = firstMaxPositions(map.values, map.shape);
    assert.ok(expected.filter((p) => p > 0).length > expected.length / 4, 'every position occurs');
    await tf.setBackend('wasm');
    const [y, where] = tf.engine().runKernel(INPUT_CONV_POOL_RELU, {
      x: tf.tensor4d(data.x, [layer.n, layer.side, layer.side, 1]), filter: tf.tensor4d(data.filter, [layer.kernel, layer.kernel, 1, layer.out]), bias: tf.tensor1d(data.bias),
    }, {}) as [tf.Tensor, tf.Tensor];
    assert.equal(where!.dtype, 'int32');
    assert.deepEqual(where!.shape, [...y!.shape.slice(0, 3), layer.out / WINDOW_POSITIONS_PER_ELEMENT]);
    assert.deepEqual(keptPositions(where!), expected);
  });

  test('a NaN pixel gives the NaNs of the composed wasm kernels, forward and in both gradients', async () => {
    await tf.setBackend('wasm');
    const layer = LAYERS[0]!;
    const data = dataFor(layer, 0);
    data.x[2 * layer.side * layer.side + 10 * layer.side + 13] = NaN; // image 2, row 10, column 13
    const fused = run(layer, data, 'before-relu');
    const composed = withoutKernel(INPUT_CONV_POOL_RELU, () => run(layer, data, 'before-relu'));
    assertSameNaNs(fused, composed, ['y', 'dFilter', 'dBias'] as const);
  });

  test('the composed ops run where the kernels do not apply: 10 channels, a 7x7 filter, the cpu backend', async () => {
    await tf.setBackend('wasm');
    const layerOf = (out: number, kernel: number) => () => tf.tidy(() =>
      inputConvPoolRelu(tf.zeros([2, 28, 28, 1]), tf.zeros([kernel, kernel, 1, out]), tf.zeros([out]), 'after-relu'));
    assert.deepEqual(await kernelsRun(layerOf(10, 3)), ['FusedConv2D', 'Relu', 'MaxPool']);
    assert.deepEqual(await kernelsRun(layerOf(8, 7)), ['FusedConv2D', 'MnistSpeedrunMaxPoolRelu']);
    await tf.setBackend('cpu');
    assert.deepEqual(await kernelsRun(layerOf(8, 3)), ['FusedConv2D', 'Relu', 'MaxPool']);
    await tf.setBackend('wasm');
  });

  test('the kernels refuse what they cannot take, by name and shape', async () => {
    await tf.setBackend('wasm');
    const images = tf.zeros([2, 8, 8, 2]);
    const filter = tf.zeros([3, 3, 2, 8]);
    assert.throws(() => tf.engine().runKernel(INPUT_CONV_POOL_RELU, { x: images, filter, bias: tf.zeros([8]) }, {}),
      /MnistSpeedrunInputConvPoolRelu: needs float32 images \[N, H, W, 1\].*got float32 \[2, 8, 8, 2\] and \[3, 3, 2, 8\]/);
    const x = tf.zeros([2, 8, 8, 1]);
    assert.throws(() => tf.engine().runKernel(INPUT_CONV_POOL_RELU, { x, filter: tf.zeros([3, 3, 1, 8]), bias: tf.zeros([4]) }, {}),
      /the bias must be \[8\], got \[4\]/);
    assert.throws(() => tf.engine().runKernel(INPUT_CONV_POOL_RELU_GRAD, { x, where: tf.zeros([2, 3, 3, 2], 'int32'), y: tf.zeros([2, 3, 3, 8]), dy: tf.zeros([2, 2, 2, 8]) },
      { filterShape: [3, 3, 1, 8] } as unknown as tf.NamedAttrMap), /dy must be \[2, 3, 3, 8\], got \[2, 2, 2, 8\]/);
    tf.disposeVariables();
  });
});
