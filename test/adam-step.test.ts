/**
 * Adam in one kernel (lib/adam-step.ts, the wasm backend's tuned set): the same bits as the update
 * composed from TensorFlow.js ops, on the wasm backend and on the cpu backend, over several steps
 * with a changing learning rate, for sizes that fill SIMD lanes and sizes that leave a tail; and
 * createOptimizer takes the one kernel per variable where the backend has it.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ADAM_STEP, adamStep, adamStepComposed, hasAdamStep, type AdamStepAttrs } from '../lib/adam-step';
import { createOptimizer } from '../lib/optimizer';
import { makeRng } from '../lib/random';
import { setupWasm } from '../lib/wasm/setup';
import { assertSameBits } from './same-bits';

tf.env().set('PROD', true);

const SHAPES = [[5, 5, 1, 16], [16], [10], [7, 3], [1], [400, 256]];
const STEPS = 4;
const LEARNING_RATES = [0.003, 0.02, 0.0115, 1e-5];
const HYPER = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

function randomValues(size: number, seed: number, scale: number): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: size }, () => (rng() * 2 - 1) * scale);
}

type Step = typeof adamStep;

/** STEPS updates of one variable of `shape` by `step`: the final param, m and v as arrays. */
function run(step: Step, shape: number[], seed: number): Float32Array[] {
  const size = shape.reduce((a, b) => a * b, 1);
  let param = tf.tensor(randomValues(size, seed, 0.5), shape);
  let m = tf.zeros(shape);
  let v = tf.zeros(shape);
  let acc1 = tf.scalar(HYPER.beta1);
  let acc2 = tf.scalar(HYPER.beta2);
  for (let t = 0; t < STEPS; t++) {
    // gradients spread over many magnitudes, zeros among them
    const grad = tf.tensor(randomValues(size, seed * 100 + t, 10 ** ((t % 3) - 2)).map((g, i) => (i % 5 === 0 ? 0 : g)), shape);
    const attrs: AdamStepAttrs = { ...HYPER, learningRate: LEARNING_RATES[t]! };
    const c1 = tf.sub(1, acc1) as tf.Scalar;
    const c2 = tf.sub(1, acc2) as tf.Scalar;
    const [p1, m1, v1] = step(param, grad, m, v, c1, c2, attrs);
    const [a1, a2] = [tf.mul(acc1, HYPER.beta1) as tf.Scalar, tf.mul(acc2, HYPER.beta2) as tf.Scalar];
    tf.dispose([param, m, v, grad, c1, c2, acc1, acc2]);
    [param, m, v, acc1, acc2] = [p1, m1, v1, a1, a2];
  }
  const out = [param, m, v].map((t) => t.dataSync() as Float32Array);
  tf.dispose([param, m, v, acc1, acc2]);
  return out;
}

const assertSameBitsOf = (actual: Float32Array[], expected: Float32Array[], what: string): void =>
  assertSameBits(actual, expected, ['param', 'm', 'v'], what);

describe('Adam in one kernel', () => {
  const onCpu = new Map<string, Float32Array[]>();
  before(async () => {
    assert.ok(await tf.setBackend('cpu'));
    assert.equal(hasAdamStep(), false, 'the cpu backend has no one-kernel update: it composes');
    SHAPES.forEach((shape, i) => onCpu.set(shape.join('x'), run(adamStepComposed, shape, i + 1)));
    await setupWasm({ threads: 1 });
  });

  test('the wasm backend has it, and it gives the bits of the composed update on wasm and on cpu', () => {
    assert.equal(hasAdamStep(), true);
    SHAPES.forEach((shape, i) => {
      const fused = run(adamStep, shape, i + 1);
      assertSameBitsOf(fused, run(adamStepComposed, shape, i + 1), `${shape.join('x')} fused vs composed on wasm`);
      assertSameBitsOf(fused, onCpu.get(shape.join('x'))!, `${shape.join('x')} fused on wasm vs composed on cpu`);
    });
  });

  test('one step: a zero gradient leaves the parameter exactly, a positive one lowers it, a negative one raises it', () => {
    const param = tf.tensor1d([1, 1, 1, -2, 0]);
    const grad = tf.tensor1d([0, 0.3, -4, 1e-6, 0]);
    const [m, v] = [tf.zeros([5]), tf.zeros([5])];
    const [c1, c2] = [tf.scalar(1 - 0.9), tf.scalar(1 - 0.999)];
    const [p1] = adamStep(param, grad, m, v, c1, c2, { ...HYPER, learningRate: 0.1 });
    const after = p1.dataSync();
    assert.equal(after[0], 1);
    assert.equal(after[4], 0);
    assert.ok(after[1]! < 1 && after[2]! > 1 && after[3]! < -2, String(after));
    tf.dispose([param, grad, m, v, c1, c2, p1]);
  });

  test('createOptimizer runs one kernel per variable, and no composed ops, where the backend has it', () => {
    const params = { w: tf.variable(tf.ones([4, 3])), b: tf.variable(tf.zeros([3])) };
    const optimizer = createOptimizer({ kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, params);
    const grads = { w: tf.fill([4, 3], 0.5), b: tf.fill([3], -1) };
    const kernels: string[] = [];
    const profile = tf.profile(() => optimizer.applyGradients(grads));
    return profile.then((info) => {
      for (const k of info.kernels) kernels.push(k.name);
      assert.equal(kernels.filter((name) => name === ADAM_STEP).length, 2);
      assert.equal(kernels.filter((name) => name === 'Sqrt' || name === 'RealDiv').length, 0, kernels.join(', '));
      // first step from p = 1 and 0 with gradients 0.5 and -1: p - lr * sign(g) (to float32 rounding)
      const w = params.w.dataSync();
      const b = params.b.dataSync();
      assert.ok(w.every((x) => Math.abs(x - 0.99) < 1e-6), `w ${w}`);
      assert.ok(b.every((x) => Math.abs(x - 0.01) < 1e-6), `b ${b}`);
      optimizer.dispose();
      tf.dispose([...Object.values(params), ...Object.values(grads)]);
    });
  });

  test('refuses inputs of different shapes', () => {
    const [p, g] = [tf.zeros([4]), tf.zeros([5])];
    const [c1, c2] = [tf.scalar(0.1), tf.scalar(0.001)];
    assert.throws(() => adamStep(p, g, p, p, c1, c2, { ...HYPER, learningRate: 0.1 }), /must be float32 of one shape/);
    tf.dispose([p, g, c1, c2]);
  });
});
