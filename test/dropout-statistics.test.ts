/**
 * Dropout as the spec has it (docs/recipes.md): `baseline` zeroes whole feature maps with p 0.25
 * before f1 (Dropout2d) and single features with p 0.5 after it; `pooled` only the latter; `slim`
 * and `final` have none; kept values are scaled by 1/(1 - p); nothing is dropped in eval mode.
 *
 * Seen through the real nets' training-mode forward and backward (lib/model.ts), with weights
 * chosen so every feature is exactly 1 before dropout: conv weights 0 and biases 1, f1's weight 0
 * and bias 1. With one sample the gradients then spell out what each linear layer read:
 * dL/dW[o, i] = dL/dz[o] * input[i] and dL/db[o] = dL/dz[o], so input[i] = dW[o, i] / db[o]
 * (any o with db[o] != 0): 0 where dropped, 1/(1 - p) where kept, 1 where no dropout acts.
 * Zeroed counts must lie within five binomial sigmas of n*p. Seeds are fixed: deterministic.
 * Runs on the wasm backend.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { buildNet, loadPytorchWeights, lossAndGradients, toPytorchLayout, type Net, type PytorchArray } from '../lib/model';
import { NET_NAMES, type NetName } from '../lib/recipes';
import { setupWasm } from '../lib/wasm/setup';

// the backend that trains every published number (and fast enough for forty baseline passes)
tf.env().set('PROD', true);
await setupWasm();

/** Dropout per net, from docs/recipes.md: before f1 (channel-wise) and after f1 (element-wise). */
const SPEC: Record<NetName, { channel: number | null; element: number | null }> = {
  baseline: { channel: 0.25, element: 0.5 },
  pooled: { channel: null, element: 0.5 },
  slim: { channel: null, element: null },
  final: { channel: null, element: null },
};
const SIGMAS = 5;
const PASSES = 40;

/** A net whose every feature is 1 before dropout: conv and f1 weights 0, their biases 1; f2 as drawn. */
async function probeNet(name: NetName): Promise<Net> {
  const net = buildNet(name, 7);
  const drawn = await toPytorchLayout(net, net.params);
  const fill = (array: PytorchArray, value: number): PytorchArray => ({ shape: array.shape, values: new Float32Array(array.values.length).fill(value) });
  const weights: Record<string, PytorchArray> = { ...drawn };
  for (const layer of ['c1', 'c2', 'f1']) {
    weights[`${layer}.weight`] = fill(drawn[`${layer}.weight`]!, 0);
    weights[`${layer}.bias`] = fill(drawn[`${layer}.bias`]!, 1);
  }
  loadPytorchWeights(net, weights);
  return net;
}

/** What a linear layer read, from its weight and bias gradients (PyTorch layout [out, in]). */
function inputOf(weightGrad: PytorchArray, biasGrad: PytorchArray): Float64Array {
  const [outs, ins] = weightGrad.shape as [number, number];
  let o = 0;
  for (let k = 1; k < outs; k++) if (Math.abs(biasGrad.values[k]!) > Math.abs(biasGrad.values[o]!)) o = k;
  assert.ok(biasGrad.values[o] !== 0, 'every unit of the layer was dropped: nothing to read the input from');
  return Float64Array.from({ length: ins }, (_, i) => weightGrad.values[o * ins + i]! / biasGrad.values[o]!);
}

/** The inputs of f1 and f2 in one forward and backward pass of one blank image. */
async function layerInputs(net: Net, training: boolean, seed: number): Promise<{ f1: Float64Array; f2: Float64Array }> {
  const x = tf.zeros([1, 28, 28, 1]) as tf.Tensor4D;
  const y = tf.tensor1d([3], 'int32');
  const { loss, grads } = lossAndGradients(net, x, y, { training, seed });
  const g = await toPytorchLayout(net, grads);
  tf.dispose([x, y, loss, ...Object.values(grads)]);
  return { f1: inputOf(g['f1.weight']!, g['f1.bias']!), f2: inputOf(g['f2.weight']!, g['f2.bias']!) };
}

/** Every value is 0 or `kept` (1/(1 - p), to float32 rounding); returns how many are 0. */
function countZeros(values: Float64Array, kept: number, label: string): number {
  let zeros = 0;
  for (const v of values) {
    if (v === 0) zeros++;
    else assert.ok(Math.abs(v - kept) <= 1e-6 * kept, `${label}: kept value ${v}, expected ${kept} = 1/(1 - p)`);
  }
  return zeros;
}

function assertBinomial(zeros: number, n: number, p: number, label: string): void {
  const limit = SIGMAS * Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(zeros - n * p) <= limit, `${label}: ${zeros} of ${n} zeroed, expected ${n * p} +- ${limit}`);
}

function assertAllOnes(values: Float64Array, label: string): void {
  const other = values.findIndex((v) => v !== 1);
  assert.equal(other, -1, `${label}: feature ${other} is ${values[other]}, no dropout should act`);
}

describe('dropout: rates, scaling, channel-wise maps, eval mode', () => {
  test('the checks refuse a wrong scale, a wrong rate and a feature that should not be dropped', () => {
    assert.equal(countZeros(Float64Array.from([0, 2, 2, 0]), 2, 'right'), 2);
    assert.throws(() => countZeros(Float64Array.from([0, 2, 1.999, 0]), 2, 'scale'), /kept value 1.999/);
    assert.doesNotThrow(() => assertBinomial(500, 1000, 0.5, 'fair'));
    assert.throws(() => assertBinomial(600, 1000, 0.5, 'rate'), /600 of 1000 zeroed/);
    assert.throws(() => assertAllOnes(Float64Array.from([1, 1, 0]), 'eval'), /feature 2 is 0/);
  });

  for (const name of NET_NAMES) {
    const spec = SPEC[name];
    test(`${name}: training mode drops as specified`, async () => {
      const net = await probeNet(name);
      try {
        const channels = net.params['c2.bias']!.size;
        let channelZeros = 0;
        let elementZeros = 0;
        const masks = new Set<string>();
        for (let seed = 0; seed < PASSES; seed++) {
          const { f1, f2 } = await layerInputs(net, true, seed);
          masks.add(`${Array.from(f1, (v) => (v === 0 ? 0 : 1)).join('')}/${Array.from(f2, (v) => (v === 0 ? 0 : 1)).join('')}`);
          if (spec.channel === null) {
            assertAllOnes(f1, `${name} f1 input, seed ${seed}`);
          } else {
            // PyTorch flattens (C, H, W): channel c is the block [c * HW, (c + 1) * HW)
            const mapSize = f1.length / channels;
            for (let c = 0; c < channels; c++) {
              const map = f1.subarray(c * mapSize, (c + 1) * mapSize);
              const zeros = countZeros(map, Math.fround(1 / (1 - spec.channel)), `${name} f1 input`);
              assert.ok(zeros === 0 || zeros === mapSize, `${name}: feature map ${c} partly zeroed (${zeros} of ${mapSize})`);
              if (zeros === mapSize) channelZeros++;
            }
          }
          if (spec.element === null) assertAllOnes(f2, `${name} f2 input, seed ${seed}`);
          else elementZeros += countZeros(f2, Math.fround(1 / (1 - spec.element)), `${name} f2 input`);
        }
        if (spec.channel !== null) assertBinomial(channelZeros, PASSES * channels, spec.channel, `${name} feature maps`);
        if (spec.element !== null) {
          assertBinomial(elementZeros, PASSES * net.params['f1.bias']!.size, spec.element, `${name} f1 outputs`);
        }
        // a fresh mask for every seed where anything is dropped
        assert.equal(masks.size, spec.channel === null && spec.element === null ? 1 : PASSES, `${name}: distinct masks over ${PASSES} seeds`);
      } finally {
        net.dispose();
      }
    });

    test(`${name}: the same seed draws the same masks; eval mode drops nothing`, async () => {
      const net = await probeNet(name);
      try {
        const [a, b] = [await layerInputs(net, true, 11), await layerInputs(net, true, 11)];
        assert.deepEqual(a, b, 'same seed, other masks');
        for (const seed of [0, 1, 2]) {
          const { f1, f2 } = await layerInputs(net, false, seed);
          assertAllOnes(f1, `${name} f1 input in eval mode`);
          assertAllOnes(f2, `${name} f2 input in eval mode`);
        }
      } finally {
        net.dispose();
      }
    });
  }
});
