/**
 * Nets as data: the four ladder nets as specs give exactly the parameters the original defines
 * (counts worked out by hand from the architecture, shapes as PyTorch's fixtures hold them); any
 * other spec builds, trains, and round-trips PyTorch weights, its forward pass checked against a
 * plain NCHW computation written here; specs that cannot fit 28x28 images are refused naming the layer.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildNet, loadPytorchWeights, lossAndGradients, parameterInfo, toPytorchLayout, type PytorchArray } from '../lib/model';
import { ladderNameOf, netLabel, netShapes, netSpec, netSpecProblem, NETS, type NetSpec } from '../lib/nets';
import { createOptimizer } from '../lib/optimizer';
import { makeRng } from '../lib/random';
import { NET_NAMES, type NetName } from '../lib/recipes';
import { openPytorchFixtures } from './pytorch-fixtures';

tf.env().set('PROD', true);
await tf.setBackend('cpu');

// Parameter counts from the architecture (../shared/docs/recipes.md), weights + biases per layer.
const HAND_COUNTS: Record<NetName, number> = {
  // c1 32x1x3x3, c2 64x32x3x3 (26 -> 24, pooled to 12), f1 128 x 12*12*64, f2 10 x 128
  baseline: 32 * 1 * 3 * 3 + 32 + 64 * 32 * 3 * 3 + 64 + 128 * 9216 + 128 + 10 * 128 + 10,
  // 26 -> 13, 11 -> 5: f1 reads 5*5*64 = 1600
  pooled: 32 * 1 * 3 * 3 + 32 + 64 * 32 * 3 * 3 + 64 + 128 * 1600 + 128 + 10 * 128 + 10,
  // 5*5*32 = 800
  slim: 24 * 1 * 3 * 3 + 24 + 32 * 24 * 3 * 3 + 32 + 128 * 800 + 128 + 10 * 128 + 10,
  // 28 - 5 + 1 = 24 -> 12, 10 -> 5: 800
  final: 24 * 1 * 5 * 5 + 24 + 32 * 24 * 3 * 3 + 32 + 256 * 800 + 256 + 10 * 256 + 10,
};
const FLATTENED: Record<NetName, [number, number, number]> = {
  baseline: [12, 12, 64],
  pooled: [5, 5, 64],
  slim: [5, 5, 32],
  final: [5, 5, 32],
};

/** 16 and 24 maps, both pooled after the ReLU, a 128-wide hidden layer: the search's smallest. */
const NARROW: NetSpec = {
  convs: [
    { out: 16, kernel: 3, pool: 'after-relu', relu: true },
    { out: 24, kernel: 3, pool: 'after-relu', relu: true },
  ],
  dropout2d: 0,
  fc: 128,
  dropout: 0,
};

/** Three convolutions, every pool placement, one without ReLU, an odd map pooled (11 -> 5), both dropouts. */
const ODD: NetSpec = {
  convs: [
    { out: 6, kernel: 3, pool: 'after-relu', relu: true }, // 26 -> 13
    { out: 5, kernel: 3, pool: 'none', relu: false }, // 11
    { out: 7, kernel: 2, pool: 'before-relu', relu: true }, // 10 -> 5
  ],
  dropout2d: 0.2,
  fc: 12,
  dropout: 0.3,
};

const product = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function randomWeights(spec: NetSpec, seed: number): Record<string, PytorchArray> {
  const rng = makeRng(seed);
  const weights: Record<string, PytorchArray> = {};
  for (const info of parameterInfo(spec)) {
    const values = Float32Array.from({ length: product(info.pytorchShape) }, () => (rng() * 2 - 1) / Math.sqrt(info.fanIn));
    weights[info.name] = { shape: info.pytorchShape, values };
  }
  return weights;
}

function randomImages(count: number, seed: number): tf.Tensor4D {
  const rng = makeRng(seed);
  return tf.tensor4d(Float32Array.from({ length: count * 28 * 28 }, () => rng() * 2 - 0.5), [count, 28, 28, 1]);
}

/**
 * Eval-mode log-probabilities computed the way PyTorch does, from PyTorch-layout weights: NCHW
 * maps, OIHW kernels (moved to HWIO by tf.transpose only to call conv2d), f1 reading the map
 * flattened as (C, H, W).
 */
function referenceLogits(spec: NetSpec, weights: Record<string, PytorchArray>, images: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const tensor = (name: string): tf.Tensor => tf.tensor(weights[name]!.values, weights[name]!.shape);
    let h: tf.Tensor4D = tf.transpose(images, [0, 3, 1, 2]); // NCHW
    spec.convs.forEach((c, i) => {
      const w = tf.transpose(tensor(`c${i + 1}.weight`), [2, 3, 1, 0]) as tf.Tensor4D;
      const bias = tf.reshape(tensor(`c${i + 1}.bias`), [1, c.out, 1, 1]);
      h = tf.add(tf.conv2d(h, w, 1, 'valid', 'NCHW'), bias);
      const pool = (t: tf.Tensor4D): tf.Tensor4D => tf.transpose(tf.maxPool(tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D, 2, 2, 'valid'), [0, 3, 1, 2]);
      if (c.relu) h = tf.relu(h);
      if (c.pool !== 'none') h = pool(h); // pool and ReLU commute: the order cannot change the values
    });
    const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D; // (C, H, W), as torch.flatten
    const hidden = tf.relu(tf.add(tf.matMul(flat, tensor('f1.weight') as tf.Tensor2D, false, true), tensor('f1.bias')));
    return tf.logSoftmax(tf.add(tf.matMul(hidden as tf.Tensor2D, tensor('f2.weight') as tf.Tensor2D, false, true), tensor('f2.bias'))) as tf.Tensor2D;
  });
}

describe('the ladder nets as data', () => {
  for (const name of NET_NAMES) {
    test(`${name}: the parameter count worked out by hand, and the flattened map f1 reads`, () => {
      const infos = parameterInfo(name);
      assert.equal(infos.reduce((sum, info) => sum + product(info.pytorchShape), 0), HAND_COUNTS[name]);
      assert.deepEqual(netShapes(NETS[name]).flattened, FLATTENED[name]);
      assert.deepEqual(infos.map((info) => info.name), ['c1.weight', 'c1.bias', 'c2.weight', 'c2.bias', 'f1.weight', 'f1.bias', 'f2.weight', 'f2.bias']);
      const net = buildNet(NETS[name], 1);
      assert.equal(net.paramCount(), HAND_COUNTS[name]);
      assert.equal(net.name, name, "a spec equal to a ladder net is named as that net");
      net.dispose();
    });
  }

  test('parameter shapes are those of the PyTorch fixtures', (t) => {
    const dir = process.env['PYTORCH_FIXTURES'];
    if (dir === undefined || !existsSync(join(dir, 'manifest.json'))) {
      t.skip('set PYTORCH_FIXTURES to the PyTorch fixture folder');
      return;
    }
    const { manifest } = openPytorchFixtures(dir);
    assert.ok(manifest.models.length >= 3, 'the fixtures hold the models');
    for (const model of manifest.models) {
      const infos = parameterInfo(model.name as NetName);
      assert.deepEqual(infos.map((i) => i.name).sort(), Object.keys(model.params).sort(), model.name);
      for (const info of infos) assert.deepEqual(info.pytorchShape, manifest.arrays[model.params[info.name]!]!.shape, `${model.name} ${info.name}`);
      assert.equal(infos.reduce((sum, info) => sum + product(info.pytorchShape), 0), model.param_count, model.name);
    }
  });

  test('each ladder spec is known by its name again; a changed one is not', () => {
    for (const name of NET_NAMES) assert.equal(ladderNameOf(JSON.parse(JSON.stringify(NETS[name])) as NetSpec), name);
    assert.equal(ladderNameOf(NARROW), null);
    assert.equal(ladderNameOf({ ...NETS.final, fc: 255 }), null);
    assert.equal(ladderNameOf({ ...NETS.baseline, convs: [NETS.baseline.convs[0]!, { ...NETS.baseline.convs[1]!, relu: true }] }), null);
    assert.equal(netSpec('slim'), NETS.slim);
    assert.equal(netLabel(NARROW), 'c1:16k3p-c2:24k3p-fc:128');
    assert.equal(netLabel(ODD), 'c1:6k3p-c2:5k3n-c3:7k2q-d2:0.2-fc:12-d:0.3');
  });
});

describe('a net of your own', () => {
  test('16 and 24 maps, fc 128: builds, trains a step, and round-trips PyTorch weights', async () => {
    assert.deepEqual(
      parameterInfo(NARROW).map((i) => [i.name, i.pytorchShape]),
      [
        ['c1.weight', [16, 1, 3, 3]], ['c1.bias', [16]], ['c2.weight', [24, 16, 3, 3]], ['c2.bias', [24]],
        // 26 -> 13, 11 -> 5: 5*5*24 = 600
        ['f1.weight', [128, 600]], ['f1.bias', [128]], ['f2.weight', [10, 128]], ['f2.bias', [10]],
      ],
    );
    const net = buildNet(NARROW, 4);
    assert.equal(net.paramCount(), 16 * 9 + 16 + 24 * 16 * 9 + 24 + 128 * 600 + 128 + 1280 + 10);
    const optimizer = createOptimizer({ kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, net.params);
    const images = randomImages(8, 5);
    const labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
    const before = await toPytorchLayout(net, net.params);
    const first = lossAndGradients(net, images, labels, { training: true, seed: 1 });
    const loss0 = (await first.loss.data())[0]!;
    assert.ok(Number.isFinite(loss0) && loss0 > 0, `loss ${loss0}`);
    optimizer.applyGradients(first.grads);
    tf.dispose([first.loss, ...Object.values(first.grads)]);
    const after = await toPytorchLayout(net, net.params);
    for (const name of Object.keys(before)) assert.notDeepEqual(after[name]!.values, before[name]!.values, `${name} did not move`);

    // round trip: our layout -> PyTorch -> a net built from another seed -> PyTorch
    const other = buildNet(NARROW, 99);
    loadPytorchWeights(other, after);
    const back = await toPytorchLayout(other, other.params);
    for (const name of Object.keys(after)) assert.deepEqual(back[name]!.values, after[name]!.values, name);
    tf.dispose([images, labels]);
    optimizer.dispose();
    net.dispose();
    other.dispose();
  });

  test('three convolutions, every pool placement, an odd map: the forward pass PyTorch computes', async () => {
    const weights = randomWeights(ODD, 7);
    const net = buildNet(ODD, 1);
    loadPytorchWeights(net, weights);
    const images = randomImages(4, 8);
    const ours = net.forward(images, { training: false });
    const reference = referenceLogits(ODD, weights, images);
    const [a, b] = [await ours.data(), await reference.data()];
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4, `logit ${i}: ${a[i]} vs ${b[i]}`);
    // in training both dropouts draw: the same seed gives the same pass, another seed another
    const [x, y, z] = [1, 1, 2].map((seed) => net.forward(images, { training: true, seed }));
    assert.deepEqual(await x!.data(), await y!.data());
    assert.notDeepEqual(await x!.data(), await z!.data());
    tf.dispose([ours, reference, images, x!, y!, z!]);
    net.dispose();
  });
});

describe('specs that cannot be built', () => {
  const refused = (spec: NetSpec, message: RegExp): void => {
    const problem = netSpecProblem(spec) ?? 'accepted';
    assert.match(problem, message);
    assert.throws(() => buildNet(spec, 0), (error: unknown) => error instanceof RangeError && error.message === `net spec refused: ${problem}`);
  };

  test('a map shrinking below 1x1 is refused naming the layer', () => {
    refused({ ...NARROW, convs: [{ ...NARROW.convs[0]!, kernel: 29 }] }, /^c1: a 29x29 kernel does not fit the 28x28 map it reads/);
    refused({ ...NARROW, convs: [{ ...NARROW.convs[0]!, kernel: 28 }] }, /^c1: its 2x2 pool would shrink the 1x1 map to nothing/);
    // 26 -> 13 -> 11 -> 5 -> 3 -> 1: a fourth pool would be too many, but three convs may be pooled
    const three = { ...NARROW, convs: [NARROW.convs[0]!, NARROW.convs[1]!, { out: 8, kernel: 5, pool: 'none' as const, relu: true }] };
    assert.equal(netSpecProblem(three), null);
    assert.deepEqual(netShapes(three).flattened, [1, 1, 8]);
    refused({ ...three, convs: [...three.convs.slice(0, 2), { out: 8, kernel: 6, pool: 'none', relu: true }] }, /^c3: a 6x6 kernel does not fit the 5x5 map/);
  });

  test('fields out of range are refused naming the field', () => {
    refused({ ...NARROW, convs: [] }, /^convs must list 1 to 3 convolutions, got 0/);
    refused({ ...NARROW, convs: [...NARROW.convs, ...NARROW.convs] }, /^convs must list 1 to 3 convolutions, got 4/);
    refused({ ...NARROW, convs: [NARROW.convs[0]!, { ...NARROW.convs[1]!, out: 0 }] }, /^c2\.out must be a whole number above 0, got 0/);
    refused({ ...NARROW, convs: [{ ...NARROW.convs[0]!, kernel: 2.5 }] }, /^c1\.kernel must be a whole number above 0/);
    refused({ ...NARROW, convs: [{ ...NARROW.convs[0]!, pool: 'max' as 'none' }] }, /^c1\.pool must be one of none, after-relu, before-relu, got max/);
    refused({ ...NARROW, fc: 0 }, /^fc must be a whole number above 0/);
    refused({ ...NARROW, dropout: 1 }, /^dropout must be a number from 0 up to \(not including\) 1, got 1/);
    refused({ ...NARROW, dropout2d: -0.1 }, /^dropout2d must be a number from 0 up to/);
  });

  test('an unknown name is refused with the names there are', () => {
    assert.throws(() => buildNet('resnet' as NetName, 0), /^RangeError: unknown net "resnet": use one of baseline, pooled, slim, final, or a net spec$/);
  });
});
