/**
 * The nets: sizes, PyTorch's init, dropout semantics (channel dropout included), weight loading
 * from PyTorch layout checked against an independent NCHW computation, the loss, and tensor
 * hygiene of a whole training step. Parity with PyTorch's own numbers is in parity.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  buildNet,
  channelDropout,
  lossAndGradients,
  loadPytorchWeights,
  nllLoss,
  smoothedNllLoss,
  toPytorchLayout,
  WeightShapeError,
  type Net,
  type PytorchArray,
} from '../lib/model';
import { createOptimizer } from '../lib/optimizer';
import { makeRng } from '../lib/random';
import { NET_NAMES, type NetName } from '../lib/recipes';

tf.env().set('PROD', true);
await tf.setBackend('cpu');

// The layers of ../shared/docs/recipes.md, PyTorch layout: [out, in, k, k] and [out, in].
const LAYERS: Record<NetName, { c1: number[]; c2: number[]; f1: number[]; f2: number[] }> = {
  baseline: { c1: [32, 1, 3, 3], c2: [64, 32, 3, 3], f1: [128, 9216], f2: [10, 128] },
  pooled: { c1: [32, 1, 3, 3], c2: [64, 32, 3, 3], f1: [128, 1600], f2: [10, 128] },
  slim: { c1: [24, 1, 3, 3], c2: [32, 24, 3, 3], f1: [128, 800], f2: [10, 128] },
  final: { c1: [24, 1, 5, 5], c2: [32, 24, 3, 3], f1: [256, 800], f2: [10, 256] },
};
const DOCUMENTED_COUNTS: Record<NetName, number> = { baseline: 1_199_882, pooled: 225_034, slim: 111_002, final: 215_194 };

const product = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** PyTorch-layout shapes of every parameter, keyed like a state_dict. */
function pytorchShapes(name: NetName): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const [layer, shape] of Object.entries(LAYERS[name])) {
    shapes[`${layer}.weight`] = shape;
    shapes[`${layer}.bias`] = [shape[0]!];
  }
  return shapes;
}

function fanIn(name: NetName, param: string): number {
  const shape = LAYERS[name][param.split('.')[0] as 'c1'];
  return product(shape.slice(1));
}

function randomWeights(name: NetName, seed: number): Record<string, PytorchArray> {
  const rng = makeRng(seed);
  const weights: Record<string, PytorchArray> = {};
  for (const [param, shape] of Object.entries(pytorchShapes(name))) {
    const values = Float32Array.from({ length: product(shape) }, () => (rng() * 2 - 1) / Math.sqrt(fanIn(name, param)));
    weights[param] = { shape, values };
  }
  return weights;
}

function randomImages(count: number, seed: number): tf.Tensor4D {
  const rng = makeRng(seed);
  const pixels = Float32Array.from({ length: count * 28 * 28 }, () => (rng() - 0.1307) / 0.3081);
  return tf.tensor4d(pixels, [count, 28, 28, 1]);
}

async function withNet<T>(name: NetName, seed: number, body: (net: Net) => Promise<T> | T): Promise<T> {
  const net = buildNet(name, seed);
  try {
    return await body(net);
  } finally {
    net.dispose();
  }
}

describe('buildNet', () => {
  for (const name of NET_NAMES) {
    test(`${name}: parameters as documented, in TensorFlow layouts`, () =>
      withNet(name, 1, (net) => {
        const fromShapes = Object.values(pytorchShapes(name)).reduce((sum, shape) => sum + product(shape), 0);
        assert.equal(fromShapes, DOCUMENTED_COUNTS[name], 'layer shapes vs documented count');
        assert.equal(net.paramCount(), fromShapes);
        assert.deepEqual(Object.keys(net.params).sort(), Object.keys(pytorchShapes(name)).sort());
        const { c1, f1 } = LAYERS[name];
        assert.deepEqual(net.params['c1.weight']!.shape, [c1[2], c1[3], c1[1], c1[0]], 'conv weight HWIO');
        assert.deepEqual(net.params['f1.weight']!.shape, [f1[1], f1[0]], 'linear weight [in, out]');
      }));
  }

  test('PyTorch init: every weight and bias within 1/sqrt(fan_in), spread uniformly', () =>
    withNet('pooled', 3, (net) => {
      for (const [param, variable] of Object.entries(net.params)) {
        const bound = 1 / Math.sqrt(fanIn('pooled', param));
        const values = variable.dataSync();
        let largest = 0;
        for (const v of values) largest = Math.max(largest, Math.abs(v));
        assert.ok(largest <= bound * (1 + 1e-6), `${param}: ${largest} > ${bound}`);
        assert.ok(largest > 0.5 * bound, `${param}: values span only ${largest} of ${bound}`);
      }
      // 204,800 draws: mean, variance (bound^2 / 3) and quarter-bins of a uniform distribution
      const values = net.params['f1.weight']!.dataSync();
      const bound = 1 / Math.sqrt(1600);
      const bins = [0, 0, 0, 0];
      let sum = 0;
      let sumSquares = 0;
      for (const v of values) {
        sum += v;
        sumSquares += v * v;
        bins[Math.min(3, Math.floor(((v / bound + 1) / 2) * 4))]! += 1;
      }
      assert.ok(Math.abs(sum / values.length) < 0.01 * bound, 'mean not near 0');
      const variance = sumSquares / values.length;
      assert.ok(Math.abs(variance / (bound * bound / 3) - 1) < 0.02, `variance ${variance}`);
      for (const count of bins) assert.ok(Math.abs(count / values.length - 0.25) < 0.01, `bins ${bins.join(',')}`);
    }));

  test('the seed decides the weights', async () => {
    const weights = async (seed: number) => withNet('slim', seed, (net) => toPytorchLayout(net, net.params));
    const [a, b, c] = await Promise.all([weights(5), weights(5), weights(6)]);
    for (const param of Object.keys(a)) {
      assert.deepEqual(a[param]!.values, b[param]!.values, `${param} differs for the same seed`);
      assert.notDeepEqual(a[param]!.values, c[param]!.values, `${param} equal for different seeds`);
    }
  });

  test('rejects an unknown net name', () => {
    assert.throws(() => buildNet('resnet' as NetName, 0), RangeError);
  });
});

describe('forward', () => {
  test('log-probabilities [B, 10] for every net', () => {
    const x = randomImages(3, 1);
    for (const name of NET_NAMES) {
      const net = buildNet(name, 2);
      const logProbs = net.forward(x, { training: false });
      assert.deepEqual(logProbs.shape, [3, 10]);
      const rowSums = tf.tidy(() => tf.sum(tf.exp(logProbs), 1).dataSync());
      for (const s of rowSums) assert.ok(Math.abs(s - 1) < 1e-5, `${name}: probabilities sum to ${s}`);
      logProbs.dispose();
      net.dispose();
    }
    x.dispose();
  });

  test('eval mode is deterministic; training masks repeat with a seed and change without', () =>
    withNet('pooled', 4, (net) => {
      const x = randomImages(4, 2);
      const run = (mode: { training: boolean; seed?: number }) => {
        const out = net.forward(x, mode);
        const values = out.dataSync();
        out.dispose();
        return Array.from(values);
      };
      assert.deepEqual(run({ training: false }), run({ training: false }));
      assert.deepEqual(run({ training: true, seed: 9 }), run({ training: true, seed: 9 }));
      assert.notDeepEqual(run({ training: true, seed: 9 }), run({ training: true, seed: 10 }));
      assert.notDeepEqual(run({ training: true, seed: 9 }), run({ training: false }));
      x.dispose();
    }));

  test('channelDropout zeroes whole feature maps and scales the rest by 1/(1-p)', () => {
    const x = tf.ones([16, 3, 3, 64]) as tf.Tensor4D;
    const dropped = channelDropout(x, 0.25, 11);
    const values = dropped.dataSync();
    let zeroMaps = 0;
    for (let b = 0; b < 16; b++) {
      for (let c = 0; c < 64; c++) {
        const map = Array.from({ length: 9 }, (_, i) => values[(b * 9 + i) * 64 + c]!);
        const first = map[0]!;
        assert.ok(first === 0 || Math.abs(first - 1 / 0.75) < 1e-6, `value ${first}`);
        assert.ok(map.every((v) => v === first), `sample ${b} channel ${c} is partly dropped`);
        if (first === 0) zeroMaps++;
      }
    }
    const droppedFraction = zeroMaps / (16 * 64);
    assert.ok(droppedFraction > 0.18 && droppedFraction < 0.32, `dropped ${droppedFraction}`);
    const again = channelDropout(x, 0.25, 11);
    assert.deepEqual(again.dataSync(), values, 'same seed, same mask');
    tf.dispose([x, dropped, again]);
  });

  test("baseline's first dropout drops whole channels in training (zero f1 gradient rows per map)", () =>
    withNet('baseline', 5, (net) => {
      const x = randomImages(1, 3);
      const y = tf.tensor1d([7], 'int32');
      const { loss, grads } = lossAndGradients(net, x, y, { training: true, seed: 21 });
      // f1.weight gradient [9216, 128] with rows in (h, w, c) order of the [12, 12, 64] map
      const g = grads['f1.weight']!.dataSync();
      let droppedChannels = 0;
      for (let c = 0; c < 64; c++) {
        let zeroRows = 0;
        for (let hw = 0; hw < 144; hw++) {
          const row = (hw * 64 + c) * 128;
          let rowIsZero = true;
          for (let o = 0; o < 128 && rowIsZero; o++) rowIsZero = g[row + o] === 0;
          if (rowIsZero) zeroRows++;
        }
        assert.ok(zeroRows === 0 || zeroRows === 144, `channel ${c}: ${zeroRows} of 144 positions dropped`);
        if (zeroRows === 144) droppedChannels++;
      }
      assert.ok(droppedChannels > 0 && droppedChannels < 64, `${droppedChannels} of 64 channels dropped`);
      tf.dispose([x, y, loss, ...Object.values(grads)]);
    }));
});

describe('PyTorch weights', () => {
  test('baseline loaded from PyTorch layout computes what an NCHW reading of those weights does', () =>
    withNet('baseline', 0, async (net) => {
      const weights = randomWeights('baseline', 8);
      loadPytorchWeights(net, weights);
      const x = randomImages(2, 4);
      const w = (param: string) => tf.tensor(weights[param]!.values, weights[param]!.shape);
      // reference: tf.transpose for the layouts, and a flatten in PyTorch's (C, H, W) order
      const expected = tf.tidy(() => {
        const conv = (input: tf.Tensor4D, layer: string) =>
          tf.add(tf.conv2d(input, tf.transpose(w(`${layer}.weight`), [2, 3, 1, 0]) as tf.Tensor4D, 1, 'valid'), w(`${layer}.bias`));
        const dense = (input: tf.Tensor2D, layer: string) =>
          tf.add(tf.matMul(input, w(`${layer}.weight`) as tf.Tensor2D, false, true), w(`${layer}.bias`));
        const h = tf.maxPool(conv(tf.relu(conv(x, 'c1')) as tf.Tensor4D, 'c2') as tf.Tensor4D, 2, 2, 'valid');
        const flatCHW = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [2, 9216]) as tf.Tensor2D;
        return tf.logSoftmax(dense(tf.relu(dense(flatCHW, 'f1')) as tf.Tensor2D, 'f2')).dataSync();
      });
      const got = net.forward(x, { training: false });
      const gotValues = await got.data();
      expected.forEach((e, i) => assert.ok(Math.abs(gotValues[i]! - e) < 1e-4, `log-prob ${i}: ${gotValues[i]} vs ${e}`));
      tf.dispose([x, got]);
    }));

  test('toPytorchLayout reads back exactly what loadPytorchWeights took', () =>
    withNet('final', 0, async (net) => {
      const weights = randomWeights('final', 9);
      loadPytorchWeights(net, weights);
      const back = await toPytorchLayout(net, net.params);
      for (const [param, array] of Object.entries(weights)) {
        assert.deepEqual(back[param]!.shape, array.shape, `${param} shape`);
        assert.deepEqual(back[param]!.values, array.values, `${param} values`);
      }
    }));

  test('rejects a missing parameter or a wrong shape, naming it', () =>
    withNet('slim', 0, (net) => {
      const weights = randomWeights('slim', 1);
      const { ['f2.bias']: _dropped, ...missing } = weights;
      assert.throws(() => loadPytorchWeights(net, missing), (e: unknown) => e instanceof WeightShapeError && /f2\.bias/.test(e.message));
      const transposed = { ...weights, 'f1.weight': { shape: [800, 128], values: weights['f1.weight']!.values } };
      assert.throws(() => loadPytorchWeights(net, transposed), (e: unknown) => e instanceof WeightShapeError && /f1\.weight/.test(e.message));
    }));
});

describe('nllLoss', () => {
  test('is the mean negative log-probability of the labelled class', () => {
    const logProbs = tf.log(tf.tensor2d([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])) as tf.Tensor2D;
    const labels = tf.tensor1d([0, 2], 'int32');
    const loss = nllLoss(logProbs, labels);
    assert.ok(Math.abs(loss.dataSync()[0]! - -(Math.log(0.7) + Math.log(0.8)) / 2) < 1e-6);
    tf.dispose([logProbs, labels, loss]);
  });

  test('refuses float labels', () => {
    const logProbs = tf.zeros([1, 10]) as tf.Tensor2D;
    const labels = tf.tensor1d([3]);
    assert.throws(() => nllLoss(logProbs, labels), TypeError);
    tf.dispose([logProbs, labels]);
  });
});

describe('smoothedNllLoss', () => {
  test('puts 1 - s on the label and s / classes on every class (PyTorch label_smoothing)', () => {
    const logProbs = tf.log(tf.tensor2d([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])) as tf.Tensor2D;
    const labels = tf.tensor1d([0, 2], 'int32');
    const loss = smoothedNllLoss(logProbs, labels, 0.3);
    // s = 0.3 over 3 classes: target [0.8, 0.1, 0.1] for label 0, [0.1, 0.1, 0.8] for label 2
    const row1 = -(0.8 * Math.log(0.7) + 0.1 * Math.log(0.2) + 0.1 * Math.log(0.1));
    const row2 = -(0.1 * Math.log(0.1) + 0.1 * Math.log(0.1) + 0.8 * Math.log(0.8));
    assert.ok(Math.abs(loss.dataSync()[0]! - (row1 + row2) / 2) < 1e-6);
    tf.dispose([logProbs, labels, loss]);
  });

  test('with s = 0 it is the plain NLL, value for value', () => {
    const logProbs = tf.log(tf.tensor2d([[0.25, 0.75], [0.6, 0.4]])) as tf.Tensor2D;
    const labels = tf.tensor1d([1, 0], 'int32');
    const [a, b] = [smoothedNllLoss(logProbs, labels, 0), nllLoss(logProbs, labels)];
    assert.equal(a.dataSync()[0], b.dataSync()[0]);
    tf.dispose([logProbs, labels, a, b]);
  });

  test('refuses a smoothing outside [0, 1) and float labels', () => {
    const logProbs = tf.zeros([1, 10]) as tf.Tensor2D;
    const labels = tf.tensor1d([3], 'int32');
    assert.throws(() => smoothedNllLoss(logProbs, labels, 1), RangeError);
    assert.throws(() => smoothedNllLoss(logProbs, labels, -0.1), RangeError);
    const floats = tf.tensor1d([3]);
    assert.throws(() => smoothedNllLoss(logProbs, floats, 0.1), TypeError);
    tf.dispose([logProbs, labels, floats]);
  });
});

describe('tensor hygiene', () => {
  test('forward, gradients and an optimizer step leave no tensors behind', () =>
    withNet('pooled', 6, (net) => {
      // two images: the cpu backend's filter gradient is slow, and two show any per-step leak
      const x = randomImages(2, 5);
      const y = tf.tensor1d([3, 7], 'int32');
      const optimizer = createOptimizer({ kind: 'adadelta', lr: 1, rho: 0.9, eps: 1e-6 }, net.params);
      const step = (seed: number) => {
        const { loss, grads } = lossAndGradients(net, x, y, { training: true, seed });
        optimizer.applyGradients(grads);
        tf.dispose([loss, ...Object.values(grads)]);
      };
      // Adadelta's state exists from creation, so the count must not move from here on
      const before = tf.memory().numTensors;
      step(1);
      step(2);
      const evalOut = net.forward(x, { training: false });
      evalOut.dispose();
      assert.equal(tf.memory().numTensors, before);
      optimizer.dispose();
      tf.dispose([x, y]);
    }));
});
