/**
 * PyTorch's default init, which no fixed PyTorch value can pin: Conv2d and Linear draw weight and
 * bias uniformly in +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5), and the bias rule), where
 * fan_in is in_channels * kh * kw for a conv and in_features for a linear layer, and a bias uses its
 * layer's weight's fan_in. For every net of lib/model.ts and every parameter, u = w / bound must lie
 * in [-1, 1] and look like Uniform(-1, 1): mean, second moment, extremes and the Kolmogorov-Smirnov
 * distance all within bounds for the sample size (five sigma, or a tail probability below 1e-7).
 * Seeds are fixed, so the outcome is deterministic.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildNet, toPytorchLayout, type PytorchArray } from '../lib/model';
import { NET_NAMES } from '../lib/recipes';

tf.env().set('PROD', true);
await tf.setBackend('cpu');

const SEED = 20_240_611;
const SIGMAS = 5;
const TAIL = 1e-7;

/** PyTorch's fan_in of a weight in PyTorch layout: everything but the output dimension. */
function fanIn(weightShape: readonly number[]): number {
  return weightShape.slice(1).reduce((a, b) => a * b, 1);
}

/** Each parameter's bound, from its layer's weight shape ("c1.bias" -> "c1.weight"). */
function boundOf(name: string, params: Record<string, PytorchArray>): number {
  const weight = params[name.replace(/\.bias$/, '.weight')];
  assert.ok(weight, `no weight for ${name}`);
  return 1 / Math.sqrt(fanIn(weight.shape));
}

interface UniformCheck {
  n: number;
  min: number;
  max: number;
  mean: number;
  secondMoment: number;
  ks: number;
}

/** Statistics of u = values / bound, to compare with Uniform(-1, 1). */
function describeScaled(values: Float32Array, bound: number): UniformCheck {
  const u = Float64Array.from(values, (v) => v / bound).sort();
  const n = u.length;
  let sum = 0;
  let squares = 0;
  let ks = 0;
  u.forEach((x, i) => {
    sum += x;
    squares += x * x;
    const cdf = (x + 1) / 2;
    ks = Math.max(ks, Math.abs((i + 1) / n - cdf), Math.abs(i / n - cdf));
  });
  return { n, min: u[0]!, max: u[n - 1]!, mean: sum / n, secondMoment: squares / n, ks };
}

function assertUniform(label: string, s: UniformCheck): void {
  // float32 rounding of w = (2r - 1) * bound may land one ulp past the bound
  const edge = 1 + 2 ** -22;
  assert.ok(s.min >= -edge && s.max <= edge, `${label}: values beyond the bound (u in [${s.min}, ${s.max}])`);
  // Uniform(-1, 1): mean 0 (variance 1/3n), E[u^2] = 1/3 (variance of u^2: 1/5 - 1/9 = 4/45)
  const meanLimit = SIGMAS * Math.sqrt(1 / (3 * s.n));
  assert.ok(Math.abs(s.mean) <= meanLimit, `${label}: mean of w/bound ${s.mean}, limit ${meanLimit}`);
  const varianceLimit = SIGMAS * Math.sqrt(4 / 45 / s.n);
  assert.ok(
    Math.abs(s.secondMoment - 1 / 3) <= varianceLimit,
    `${label}: E[(w/bound)^2] = ${s.secondMoment}, expected 1/3 within ${varianceLimit}`,
  );
  // P(max u < 1 - t) = (1 - t/2)^n: reach within t of each end unless that has probability < TAIL
  const reach = 2 * (1 - TAIL ** (1 / s.n));
  assert.ok(s.max >= 1 - reach && s.min <= -1 + reach, `${label}: u spans only [${s.min}, ${s.max}] of [-1, 1] (slack ${reach})`);
  // Dvoretzky-Kiefer-Wolfowitz: P(D > e) <= 2 exp(-2 n e^2)
  const ksLimit = Math.sqrt(Math.log(2 / TAIL) / (2 * s.n));
  assert.ok(s.ks <= ksLimit, `${label}: Kolmogorov-Smirnov distance to Uniform(-1, 1) ${s.ks}, limit ${ksLimit}`);
}

async function pytorchParams(name: (typeof NET_NAMES)[number], seed: number): Promise<Record<string, PytorchArray>> {
  const net = buildNet(name, seed);
  try {
    return await toPytorchLayout(net, net.params);
  } finally {
    net.dispose();
  }
}

describe('PyTorch default init (uniform in +-1/sqrt(fan_in))', () => {
  for (const name of NET_NAMES) {
    test(`${name}: every weight and bias`, async () => {
      const params = await pytorchParams(name, SEED);
      assert.ok(Object.keys(params).length > 0, 'no parameters');
      for (const [param, array] of Object.entries(params)) {
        assertUniform(`${name} ${param}`, describeScaled(array.values, boundOf(param, params)));
      }
    });
  }

  test('the statistics reject a wrong bound and a non-uniform fill', () => {
    // the checks themselves, on draws they must refuse: bound 1/fan_in and a triangular fill
    const n = 20_000;
    let state = 1;
    const next = (): number => ((state = (state * 48_271) % 2_147_483_647) / 2_147_483_647);
    const uniform = Float32Array.from({ length: n }, () => 2 * next() - 1);
    assert.doesNotThrow(() => assertUniform('uniform', describeScaled(uniform, 1)));
    assert.throws(() => assertUniform('too narrow', describeScaled(uniform.map((v) => v * 0.99), 1)), /spans only/);
    assert.throws(() => assertUniform('too wide', describeScaled(uniform, 0.9)), /beyond the bound/);
    const triangular = Float32Array.from({ length: n }, () => next() + next() - 1);
    assert.throws(() => assertUniform('triangular', describeScaled(triangular, 1)), /E\[\(w\/bound\)\^2\]|Kolmogorov/);
  });

  test('the same seed draws the same weights, another seed others', async () => {
    const [a, b, c] = await Promise.all([pytorchParams('slim', 1), pytorchParams('slim', 1), pytorchParams('slim', 2)]);
    for (const param of Object.keys(a)) {
      assert.deepEqual(a[param]!.values, b[param]!.values, `${param}: same seed`);
      assert.notDeepEqual(a[param]!.values, c[param]!.values, `${param}: other seed`);
    }
  });
});
