/**
 * A later conv layer with its pool and ReLU, backward as one kernel (lib/conv-pool-relu.ts, the
 * wasm backend's tuned set, on two threads): the same values, window positions and gradients
 * (input, filter, bias) as the composed ops on TensorFlow.js's cpu backend, in either ReLU order.
 * On a grid every sum is exact, so they must agree bit for bit, ties included (the 3x3 layers'
 * forward then runs Winograd's 2x2 tiles, whose transforms are adds and halvings, exact on the
 * grid; the default 4x4 tiles' are not); with random values, within float32 rounding. A NaN gives the composed wasm kernels' NaNs; other shapes and
 * backends run the composed ops; the raw kernels refuse what they cannot take.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../lib/gradients';
import { CONV_POOL_RELU_GRAD, convPoolRelu, POOL_RELU_WHERE } from '../lib/conv-pool-relu';
import { WINDOW_POSITIONS_PER_ELEMENT } from '../lib/input-conv';
import type { ReluOrder } from '../lib/pool-relu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { useWinogradTile } from '../lib/wasm/native';
import { setupWasm } from '../lib/wasm/setup';
import { assertSameNaNs, firstMaxPositions, keptPositions, kernelsRun, type LayerData, layerValues, onWasmAndCpu, ORDERS, relativeError, withoutKernel } from './fused-layer-support';

tf.env().set('PROD', true);

interface Layer {
  n: number;
  side: number;
  channels: number;
  kernel: number;
  out: number;
}

/** The ladder's second layers (final: 12x12x24 to 32; pooled: 13x13x32 to 64, an odd map of 11), a 5x5 filter, and 4 channels in and out. */
const LAYERS: Layer[] = [
  { n: 6, side: 12, channels: 24, kernel: 3, out: 32 },
  { n: 3, side: 13, channels: 32, kernel: 3, out: 64 },
  { n: 2, side: 10, channels: 8, kernel: 5, out: 8 },
  { n: 1, side: 7, channels: 4, kernel: 3, out: 4 },
];

function pooledSide(layer: Layer): number {
  return Math.floor((layer.side - layer.kernel + 1) / 2);
}

function dataFor(layer: Layer, step: number): LayerData {
  const { n, side, channels, kernel, out } = layer;
  return {
    x: layerValues(n * side * side * channels, 1, step),
    filter: layerValues(kernel * kernel * channels * out, 2, step, -0.5), // in (-0.6, 0.4]: some windows below 0
    bias: layerValues(out, 3, step, 0.5).map((v, i) => (i === 0 ? -1000 : v)), // channel 0: every window below 0, nothing passes
    upstream: layerValues(n * pooledSide(layer) ** 2 * out, 4, step),
  };
}

/** The layer's value and its gradients (input, filter, bias) for the upstream gradient, on the active backend. */
function run(layer: Layer, data: LayerData, order: ReluOrder) {
  return tf.tidy(() => {
    const { n, side, channels, kernel, out } = layer;
    const x = tf.tensor4d(data.x, [n, side, side, channels]);
    const filter = tf.tensor4d(data.filter, [kernel, kernel, channels, out]);
    const bias = tf.tensor1d(data.bias);
    const y = convPoolRelu(x, filter, bias, order);
    const upstream = tf.tensor(data.upstream, y.shape);
    const [dx, dFilter, dBias] = tf.grads((a: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(convPoolRelu(a as tf.Tensor4D, f as tf.Tensor4D, b as tf.Tensor1D, order), upstream)))([x, filter, bias]);
    const read = (t: tf.Tensor | undefined): Float32Array => t!.dataSync() as Float32Array;
    return { shape: y.shape, y: read(y), dx: read(dx), dFilter: read(dFilter), dBias: read(dBias) };
  });
}

const PARTS = ['y', 'dx', 'dFilter', 'dBias'] as const;

describe('a later conv layer, its pool and ReLU: one backward kernel', () => {
  before(async () => {
    await setupWasm({ threads: 2 });
  });

  for (const layer of LAYERS) {
    const shape = `${layer.n} maps ${layer.side}x${layer.side}x${layer.channels}, ${layer.kernel}x${layer.kernel} to ${layer.out}`;
    for (const order of ORDERS) {
      test(`on a grid: wasm fused = cpu composed bit for bit, ${shape}, ${order}`, async () => {
        const data = dataFor(layer, 0.25);
        await tf.setBackend('wasm');
        useWinogradTile(tf.backend() as BackendWasm, 2);
        const { fused, composed } = await onWasmAndCpu(() => run(layer, data, order)).finally(() => useWinogradTile(tf.findBackend('wasm') as BackendWasm, 4));
        assert.deepEqual(fused.shape, composed.shape);
        for (const part of PARTS) {
          const first = fused[part].findIndex((v, i) => v !== composed[part][i]);
          assert.equal(first, -1, `${part} [${first}]: ${fused[part][first]} vs ${composed[part][first]}`);
        }
        assert.equal(composed.dBias[0], 0, 'channel 0 passes nothing');
        const blocked = composed.y.filter((v) => v === 0).length;
        assert.ok(blocked > composed.y.length / layer.out && blocked < composed.y.length, `windows blocked by the ReLU: ${blocked} of ${composed.y.length}`);
      });
    }
    test(`random values: wasm fused = cpu composed within float32 rounding, ${shape}`, async () => {
      const data = dataFor(layer, 0);
      await tf.setBackend('wasm');
      assert.deepEqual(await kernelsRun(() => tf.tidy(() => tf.grad((x: tf.Tensor) => convPoolRelu(x as tf.Tensor4D,
        tf.tensor4d(data.filter, [layer.kernel, layer.kernel, layer.channels, layer.out]), tf.tensor1d(data.bias), 'after-relu'))(
        tf.tensor4d(data.x, [layer.n, layer.side, layer.side, layer.channels])))),
      ['FusedConv2D', POOL_RELU_WHERE, CONV_POOL_RELU_GRAD, 'Conv2DBackpropInput']);
      const fused = run(layer, data, 'before-relu');
      await tf.setBackend('cpu');
      const composed = run(layer, data, 'before-relu');
      await tf.setBackend('wasm');
      for (const part of PARTS) {
        const error = relativeError(fused[part], composed[part]);
        assert.ok(error <= 1e-5, `${part}: relative error ${error}`);
      }
    });
  }

  test('the pool keeps each window\'s first maximum, four to an int32, for odd maps too', async () => {
    await tf.setBackend('wasm');
    const shape = [3, 11, 9, 8];
    const map = layerValues(shape.reduce((a, b) => a * b, 1), 7, 0.5);
    const [y, where] = tf.engine().runKernel(POOL_RELU_WHERE, { x: tf.tensor4d(map, shape as [number, number, number, number]) }, {}) as [tf.Tensor, tf.Tensor];
    assert.deepEqual(y!.shape, [3, 5, 4, 8]);
    assert.equal(where!.dtype, 'int32');
    assert.deepEqual(where!.shape, [3, 5, 4, 8 / WINDOW_POSITIONS_PER_ELEMENT]);
    const expected = firstMaxPositions(map, shape);
    assert.ok(new Set(expected).size === 4, 'every position occurs');
    assert.deepEqual(keptPositions(where!), expected);
    tf.dispose([y!, where!]);
  });

  test('a NaN in the map gives the NaNs of the composed wasm kernels, forward and in every gradient', async () => {
    await tf.setBackend('wasm');
    const layer = LAYERS[0]!;
    const data = dataFor(layer, 0);
    data.x[((2 * layer.side + 5) * layer.side + 6) * layer.channels + 3] = NaN; // map 2, row 5, column 6, channel 3
    const fused = run(layer, data, 'before-relu');
    const composed = withoutKernel(POOL_RELU_WHERE, () => run(layer, data, 'before-relu'));
    assertSameNaNs(fused, composed, PARTS);
  });

  test('the composed ops run where the kernels do not apply: 6 channels in, 6 out, the cpu backend', async () => {
    const layerOf = (channels: number, out: number) => () => tf.tidy(() =>
      convPoolRelu(tf.zeros([2, 12, 12, channels]), tf.zeros([3, 3, channels, out]), tf.zeros([out]), 'after-relu'));
    await tf.setBackend('wasm');
    assert.deepEqual(await kernelsRun(layerOf(8, 8)), ['FusedConv2D', POOL_RELU_WHERE]);
    assert.deepEqual(await kernelsRun(layerOf(6, 8)), ['FusedConv2D', 'MnistSpeedrunMaxPoolRelu']);
    assert.deepEqual(await kernelsRun(layerOf(8, 6)), ['FusedConv2D', 'Relu', 'MaxPool']);
    await tf.setBackend('cpu');
    assert.deepEqual(await kernelsRun(layerOf(8, 8)), ['FusedConv2D', 'Relu', 'MaxPool']);
    await tf.setBackend('wasm');
  });

  test('the kernels refuse what they cannot take, by name and shape', async () => {
    await tf.setBackend('wasm');
    assert.throws(() => tf.engine().runKernel(POOL_RELU_WHERE, { x: tf.zeros([2, 8, 8, 6]) }, {}), /MnistSpeedrunMaxPoolReluWhere: x must be an NHWC float32 map with channels a multiple of 4/);
    const x = tf.zeros([2, 8, 8, 8]);
    const pooled = tf.zeros([2, 3, 3, 8]);
    const grad = (filterShape: number[], dy: tf.Tensor) => () => tf.engine().runKernel(CONV_POOL_RELU_GRAD,
      { x, where: tf.zeros([2, 3, 3, 2], 'int32'), y: pooled, dy }, { filterShape } as unknown as tf.NamedAttrMap);
    assert.throws(grad([3, 3, 6, 8], pooled), /MnistSpeedrunConvPoolReluGrad: needs a float32 map \[N, H, W, CI\].*got float32 \[2, 8, 8, 8\] and \[3, 3, 6, 8\]/);
    assert.throws(grad([3, 3, 8, 8], tf.zeros([2, 2, 2, 8])), /dy must be \[2, 3, 3, 8\], got \[2, 2, 2, 8\]/);
    tf.disposeVariables();
  });
});
