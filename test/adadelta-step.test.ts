/**
 * Adadelta in one kernel (lib/adadelta-step.ts, the wasm backend's tuned set): the same bits as the
 * update composed from TensorFlow.js ops, on the wasm backend and on the cpu backend, over several
 * steps with a changing learning rate, for sizes that fill SIMD lanes and sizes that leave a tail;
 * and createOptimizer takes the one kernel per variable where the backend has it.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ADADELTA_STEP, adadeltaStep, adadeltaStepComposed, hasAdadeltaStep, type AdadeltaStepAttrs } from '../lib/adadelta-step';
import { createOptimizer } from '../lib/optimizer';
import { makeRng } from '../lib/random';
import { setupWasm } from '../lib/wasm/setup';
import { assertSameBits } from './same-bits';

tf.env().set('PROD', true);

const SHAPES = [[3, 3, 32, 64], [64], [10], [7, 3], [1], [1600, 128]];
const STEPS = 4;
// the one-cycle schedule's rates of steps 6-7 (peak 4) and the constant 1 of steps 1-5
const LEARNING_RATES = [0.16, 1, 3.7, 0.0021];
const HYPER = { rho: 0.9, epsilon: 1e-6 };

function randomValues(size: number, seed: number, scale: number): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: size }, () => (rng() * 2 - 1) * scale);
}

type Step = typeof adadeltaStep;

/** STEPS updates of one variable of `shape` by `step`: the final param, squareAvg and accDelta as arrays. */
function run(step: Step, shape: number[], seed: number): Float32Array[] {
  const size = shape.reduce((a, b) => a * b, 1);
  let param = tf.tensor(randomValues(size, seed, 0.5), shape);
  let squareAvg = tf.zeros(shape);
  let accDelta = tf.zeros(shape);
  for (let t = 0; t < STEPS; t++) {
    // gradients spread over many magnitudes, zeros among them
    const grad = tf.tensor(randomValues(size, seed * 100 + t, 10 ** ((t % 3) - 2)).map((g, i) => (i % 5 === 0 ? 0 : g)), shape);
    const attrs: AdadeltaStepAttrs = { ...HYPER, learningRate: LEARNING_RATES[t]! };
    const [p1, s1, a1] = step(param, grad, squareAvg, accDelta, attrs);
    tf.dispose([param, squareAvg, accDelta, grad]);
    [param, squareAvg, accDelta] = [p1, s1, a1];
  }
  const out = [param, squareAvg, accDelta].map((t) => t.dataSync() as Float32Array);
  tf.dispose([param, squareAvg, accDelta]);
  return out;
}

const assertSameBitsOf = (actual: Float32Array[], expected: Float32Array[], what: string): void =>
  assertSameBits(actual, expected, ['param', 'squareAvg', 'accDelta'], what);

describe('Adadelta in one kernel', () => {
  const onCpu = new Map<string, Float32Array[]>();
  before(async () => {
    assert.ok(await tf.setBackend('cpu'));
    assert.equal(hasAdadeltaStep(), false, 'the cpu backend has no one-kernel update: it composes');
    SHAPES.forEach((shape, i) => onCpu.set(shape.join('x'), run(adadeltaStepComposed, shape, i + 1)));
    await setupWasm({ threads: 1 });
  });

  test('the wasm backend has it, and it gives the bits of the composed update on wasm and on cpu', () => {
    assert.equal(hasAdadeltaStep(), true);
    SHAPES.forEach((shape, i) => {
      const fused = run(adadeltaStep, shape, i + 1);
      assertSameBitsOf(fused, run(adadeltaStepComposed, shape, i + 1), `${shape.join('x')} fused vs composed on wasm`);
      assertSameBitsOf(fused, onCpu.get(shape.join('x'))!, `${shape.join('x')} fused on wasm vs composed on cpu`);
    });
  });

  test("the first step from zero state is lr * sqrt(eps) / sqrt((1 - rho) g^2 + eps) * g: PyTorch's, not TensorFlow.js's lr * g", () => {
    const param = tf.tensor1d([1, 1, -2, 0]);
    const grad = tf.tensor1d([0, 0.5, -4, 1e-7]);
    const [zeros1, zeros2] = [tf.zeros([4]), tf.zeros([4])];
    const [p1, s1, a1] = adadeltaStep(param, grad, zeros1, zeros2, { ...HYPER, learningRate: 1 });
    const after = p1.dataSync();
    const expected = [0, 0.5, -4, 1e-7].map((g, i) => [1, 1, -2, 0][i]! - (Math.sqrt(1e-6) / Math.sqrt(0.1 * g * g + 1e-6)) * g);
    after.forEach((value, i) => assert.ok(Math.abs(value - expected[i]!) < 1e-6, `param[${i}] ${value} vs ${expected[i]}`));
    assert.equal(after[0], 1, 'a zero gradient leaves the parameter exactly');
    assert.ok(Math.abs(s1.dataSync()[2]! - 1.6) < 1e-6, 'E[g^2] = (1 - rho) g^2');
    assert.ok(a1.dataSync().every((x) => x >= 0));
    tf.dispose([param, grad, zeros1, zeros2, p1, s1, a1]);
  });

  test('createOptimizer runs one kernel per variable, and no composed ops, where the backend has it', async () => {
    const params = { w: tf.variable(tf.ones([4, 3])), b: tf.variable(tf.zeros([3])) };
    const optimizer = createOptimizer({ kind: 'adadelta', lr: 1, rho: 0.9, eps: 1e-6 }, params);
    const grads = { w: tf.fill([4, 3], 0.5), b: tf.fill([3], -1) };
    const info = await tf.profile(() => optimizer.applyGradients(grads));
    const kernels = info.kernels.map((k) => k.name);
    assert.equal(kernels.filter((name) => name === ADADELTA_STEP).length, 2);
    assert.equal(kernels.filter((name) => name === 'Sqrt' || name === 'RealDiv').length, 0, kernels.join(', '));
    // first step: lr * sqrt(eps) / sqrt(0.1 g^2 + eps) * g, about 0.00632 * sign(g) for these gradients
    const w = params.w.dataSync();
    const b = params.b.dataSync();
    assert.ok(w.every((x) => Math.abs(x - (1 - 1e-3 / Math.sqrt(0.025 + 1e-6) * 0.5)) < 1e-6), `w ${w}`);
    assert.ok(b.every((x) => Math.abs(x - 1e-3 / Math.sqrt(0.1 + 1e-6)) < 1e-6), `b ${b}`);
    optimizer.dispose();
    tf.dispose([...Object.values(params), ...Object.values(grads)]);
  });

  test('refuses inputs of different shapes', () => {
    const [p, g] = [tf.zeros([4]), tf.zeros([5])];
    assert.throws(() => adadeltaStep(p, g, p, p, { ...HYPER, learningRate: 1 }), /must be float32 of one shape/);
    tf.dispose([p, g]);
  });
});
