/**
 * The 2x2 max pool and ReLU as one kernel (lib/pool-relu.ts, the wasm backend's tuned set): the
 * same values, and the same gradients, as the composed ops in either order, computed by
 * TensorFlow.js's cpu backend (ties, all-negative windows, odd map sizes, batches split between two
 * threads); a NaN takes its window and passes NaN back; where the kernel does not apply (another
 * backend, channels not a multiple of 4) the composed ops run.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../lib/gradients';
import { POOL_RELU, poolRelu, poolReluComposed, type ReluOrder } from '../lib/pool-relu';
import { makeRng } from '../lib/random';
import { setupWasm } from '../lib/wasm/setup';

tf.env().set('PROD', true);

const SHAPES: Array<[number, number, number, number]> = [[3, 12, 12, 8], [2, 11, 11, 4], [4, 24, 24, 16], [2, 10, 10, 32]];
const ORDERS: ReluOrder[] = ['after-relu', 'before-relu'];

/** Values in steps of 0.25 (many ties), a third of the maps below zero, and a whole all-negative image row. */
function mapValues(shape: number[], seed: number): Float32Array {
  const rng = makeRng(seed);
  const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.round((rng() * 2 - 0.7) * 4) / 4);
  const row = shape[2]! * shape[3]!;
  for (let i = 0; i < 2 * row; i++) values[i] = -Math.abs(values[i]!) - 0.25;
  return values;
}

/** Forward value and gradient of `f` at x for the upstream gradient dy, on the active backend. */
function valueAndGrad(f: (x: tf.Tensor4D) => tf.Tensor4D, x: Float32Array, dy: Float32Array, shape: [number, number, number, number]) {
  return tf.tidy(() => {
    const input = tf.tensor4d(x, shape);
    const y = f(input);
    const upstream = tf.tensor(dy, y.shape);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v as tf.Tensor4D), upstream)))(input);
    return { shape: y.shape, y: y.dataSync() as Float32Array, grad: grad.dataSync() as Float32Array };
  });
}

function kernelsRun(f: () => tf.Tensor): Promise<string[]> {
  return tf.profile(f).then((info) => info.kernels.map((k) => k.name).filter((name) => name !== ''));
}

describe('pool and ReLU in one kernel', () => {
  before(async () => {
    await setupWasm({ threads: 2 });
  });

  for (const shape of SHAPES) {
    for (const order of ORDERS) {
      test(`wasm fused = cpu composed, ${order}, [${shape.join(', ')}]`, async () => {
        await tf.setBackend('wasm');
        assert.ok(tf.getKernel(POOL_RELU, 'wasm'), 'the tuned set registers the kernel');
        const x = mapValues(shape, shape[1]! * 7 + shape[3]!);
        const pooled = [shape[0], Math.floor(shape[1] / 2), Math.floor(shape[2] / 2), shape[3]].reduce((a, b) => a * b, 1);
        const rng = makeRng(5);
        const dy = Float32Array.from({ length: pooled }, () => rng() * 2 - 1);
        const fused = valueAndGrad((v) => poolRelu(v, order), x, dy, shape);
        await tf.setBackend('cpu');
        const composed = valueAndGrad((v) => poolReluComposed(v, order), x, dy, shape);
        await tf.setBackend('wasm');
        assert.deepEqual(fused.shape, composed.shape);
        assert.deepEqual([...fused.y], [...composed.y], 'values');
        // the composed gradient holds -0 where ReLU's step zeroes a negative dy: compare as numbers
        const first = fused.grad.findIndex((g, i) => g !== composed.grad[i]);
        assert.equal(first, -1, `gradient [${first}]: ${fused.grad[first]} vs ${composed.grad[first]}`);
        const blocked = composed.y.filter((v) => v === 0).length;
        assert.ok(blocked > 0 && blocked < composed.y.length, `windows blocked by the ReLU: ${blocked} of ${composed.y.length}`);
      });
    }
  }

  test('a NaN takes its window: NaN forward, NaN back to where it was', async () => {
    await tf.setBackend('wasm');
    const shape: [number, number, number, number] = [2, 4, 4, 4];
    const x = mapValues(shape, 3);
    x[(0 * 16 + 1 * 4 + 1) * 4 + 2] = NaN; // image 0, row 1, column 1, channel 2: window (0, 0)
    const dy = new Float32Array(2 * 2 * 2 * 4).fill(0.5);
    const { y, grad } = valueAndGrad((v) => poolRelu(v, 'before-relu'), x, dy, shape);
    assert.ok(Number.isNaN(y[2]!), 'window (0, 0), channel 2');
    assert.ok(Number.isNaN(grad[(1 * 4 + 1) * 4 + 2]!), 'its gradient, at the NaN');
    assert.equal(grad.filter((g) => Number.isNaN(g)).length, 1, 'nowhere else');
  });

  test('the composed ops run where the kernel does not apply', async () => {
    await tf.setBackend('wasm');
    const fitting = tf.zeros([2, 8, 8, 8]) as tf.Tensor4D;
    const oddChannels = tf.zeros([2, 8, 8, 6]) as tf.Tensor4D;
    assert.deepEqual(await kernelsRun(() => poolRelu(fitting, 'after-relu')), [POOL_RELU]);
    assert.deepEqual(await kernelsRun(() => poolRelu(oddChannels, 'after-relu')), ['Relu', 'MaxPool']);
    await tf.setBackend('cpu');
    const onCpu = tf.zeros([2, 8, 8, 8]) as tf.Tensor4D;
    assert.deepEqual(await kernelsRun(() => poolRelu(onCpu, 'before-relu')), ['MaxPool', 'Relu']);
    tf.dispose([onCpu]);
    await tf.setBackend('wasm');
    tf.dispose([fitting, oddChannels]);
  });
});
