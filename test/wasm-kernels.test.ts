/**
 * Each training kernel of lib/wasm/kernels against the cpu backend (relative error <= 1e-5), on
 * shapes the nets use (scaled down in batch) and shapes they don't: odd sizes, 1 and many
 * channels, padding, strides (fallback paths), tied pooling windows.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import '../lib/gradients';
import { assertKernelsRegistered, MissingKernelError } from '../lib/wasm/kernels';
import { useWinograd, useWinogradTile } from '../lib/wasm/native';
import { setupWasm } from '../lib/wasm/setup';
import { makeRng } from '../lib/random';
import { relativeError } from './relative-error';

const REL_TOLERANCE = 1e-5;
tf.env().set('PROD', true);


function randomValues(size: number, seed: number, quantum = 0): Float32Array {
  const rng = makeRng(seed);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = rng() * 2 - 1;
    // A coarse quantum makes many exact ties, as flat MNIST background does.
    values[i] = quantum > 0 ? Math.round(u / quantum) * quantum : u;
  }
  return values;
}

type Inputs = Record<string, { shape: number[]; values: Float32Array }>;

/** Runs one kernel on a backend with fresh tensors made from plain arrays. */
async function runOn(backend: string, kernel: string, inputs: Inputs, attrs: object): Promise<{ shape: number[]; values: Float32Array }> {
  assert.ok(await tf.setBackend(backend));
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, { shape, values }] of Object.entries(inputs)) tensors[name] = tf.tensor(values, shape);
  const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { shape: out.shape, values: (await out.data()) as Float32Array };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

async function assertMatchesCpu(kernel: string, inputs: Inputs, attrs: object): Promise<void> {
  const before = tf.memory().numTensors;
  const wasm = await runOn('wasm', kernel, inputs, attrs);
  const cpu = await runOn('cpu', kernel, inputs, attrs);
  assert.deepEqual(wasm.shape, cpu.shape, `${kernel} output shape`);
  const error = relativeError(wasm.values, cpu.values);
  assert.ok(error <= REL_TOLERANCE, `${kernel}: relative error ${error} vs cpu`);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
}

function input(shape: number[], seed: number, quantum = 0): { shape: number[]; values: Float32Array } {
  return { shape, values: randomValues(shape.reduce((a, b) => a * b, 1), seed, quantum) };
}

function convOutSize(size: number, kernel: number, stride: number, pad: 'valid' | 'same'): number {
  return pad === 'same' ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

interface ConvCase { n: number; h: number; w: number; c: number; co: number; k: number; stride: number; pad: 'valid' | 'same' }
const CONV_CASES: ConvCase[] = [
  { n: 3, h: 28, w: 28, c: 1, co: 24, k: 5, stride: 1, pad: 'valid' }, // final c1
  { n: 3, h: 12, w: 12, c: 24, co: 32, k: 3, stride: 1, pad: 'valid' }, // final c2
  { n: 2, h: 13, w: 13, c: 32, co: 64, k: 3, stride: 1, pad: 'valid' }, // pooled c2 (odd size)
  { n: 1, h: 7, w: 9, c: 1, co: 1, k: 3, stride: 1, pad: 'valid' }, // 1 channel in and out, non-square
  { n: 2, h: 9, w: 7, c: 5, co: 3, k: 3, stride: 1, pad: 'same' }, // padding
  { n: 2, h: 9, w: 9, c: 3, co: 4, k: 3, stride: 2, pad: 'valid' }, // stride 2: general path
  { n: 2, h: 8, w: 11, c: 8, co: 24, k: 3, stride: 1, pad: 'same' }, // native kernel with padding, 16 + 8 output channels
  { n: 2, h: 15, w: 13, c: 1, co: 32, k: 3, stride: 1, pad: 'valid' }, // 1 channel, 3 taps (baseline c1 shape, smaller)
  { n: 1, h: 10, w: 9, c: 1, co: 8, k: 4, stride: 1, pad: 'valid' }, // 1 channel, taps not a multiple of 3 or 5
  { n: 2, h: 7, w: 10, c: 5, co: 24, k: 3, stride: 1, pad: 'valid' }, // odd channels, 16 + 8 outputs, odd output width
  { n: 1, h: 4, w: 4, c: 8, co: 8, k: 8, stride: 1, pad: 'same' }, // even filter: padding 3 before, 4 after
  { n: 2, h: 9, w: 14, c: 8, co: 16, k: 3, stride: 1, pad: 'valid' }, // Winograd: odd rows of output (a half tile), even columns
  { n: 3, h: 10, w: 7, c: 12, co: 8, k: 3, stride: 1, pad: 'valid' }, // Winograd forward, odd columns; 12 channels: direct input gradient
  { n: 1, h: 3, w: 3, c: 4, co: 8, k: 3, stride: 1, pad: 'valid' }, // one output pixel: one quarter-used tile
];

/** Valid 3x3 convolutions at stride 1 run three ways: Winograd's kernels by 4x4 tiles (the default) and by 2x2 tiles, and the direct ones. */
const WAYS_3X3 = ['Winograd', 'Winograd 2x2', 'direct'] as const;
const winogradShaped = (c: ConvCase): boolean => c.k === 3 && c.stride === 1 && c.pad === 'valid' && c.c % 4 === 0 && c.co % 8 === 0;

/** Runs `body` with the wasm backend's 3x3 convolutions taking `way`, then restores the default. */
async function convolvingBy(way: (typeof WAYS_3X3)[number] | 'default', body: () => Promise<void>): Promise<void> {
  const wasm = tf.findBackend('wasm') as BackendWasm;
  useWinograd(wasm, way !== 'direct');
  useWinogradTile(wasm, way === 'Winograd 2x2' ? 2 : 4);
  try {
    await body();
  } finally {
    useWinograd(wasm, true);
    useWinogradTile(wasm, 4);
  }
}

before(async () => {
  await setupWasm({ threads: 1 });
});

describe('wasm training kernels equal the cpu backend', () => {
  test('every kernel a training step needs is registered', () => {
    assert.doesNotThrow(() => assertKernelsRegistered());
    assert.throws(() => assertKernelsRegistered(['NoSuchKernelForTesting']), MissingKernelError);
  });

  for (const [index, c] of CONV_CASES.entries()) {
    const oh = convOutSize(c.h, c.k, c.stride, c.pad);
    const ow = convOutSize(c.w, c.k, c.stride, c.pad);
    const dy = input([c.n, oh, ow, c.co], 100 + index);
    const ways = winogradShaped(c) ? WAYS_3X3 : (['default'] as const);
    for (const way of ways) {
      const label = `${c.n}x${c.h}x${c.w}x${c.c} k${c.k} -> ${c.co}, stride ${c.stride}, ${c.pad}${way === 'default' ? '' : `, ${way} kernels`}`;

      test(`Conv2D and FusedConv2D (bias, relu) ${label}`, () => convolvingBy(way, async () => {
        const x = input([c.n, c.h, c.w, c.c], 300 + index);
        const filter = input([c.k, c.k, c.c, c.co], 400 + index);
        const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
        await assertMatchesCpu('Conv2D', { x, filter }, attrs);
        for (const activation of ['linear', 'relu']) {
          await assertMatchesCpu('FusedConv2D', { x, filter, bias: input([c.co], 500 + index) }, { ...attrs, activation });
        }
      }));

      test(`Conv2DBackpropFilter ${label}`, () => convolvingBy(way, async () => {
        await assertMatchesCpu('Conv2DBackpropFilter', { x: input([c.n, c.h, c.w, c.c], index), dy }, {
          strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: [c.k, c.k, c.c, c.co],
        });
      }));

      test(`Conv2DBackpropInput ${label}`, () => convolvingBy(way, async () => {
        await assertMatchesCpu('Conv2DBackpropInput', { dy, filter: input([c.k, c.k, c.c, c.co], 200 + index) }, {
          strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: [c.n, c.h, c.w, c.c],
        });
      }));
    }
  }

  test('the nets\' 3x3 layers take the Winograd kernels: forward, filter and input gradient each round otherwise than the direct kernel, and by tile', async () => {
    for (const c of CONV_CASES.filter((k) => winogradShaped(k) && k.c % 8 === 0 && k.n > 1)) {
      const [x, filter, dy] = [input([c.n, c.h, c.w, c.c], 1), input([3, 3, c.c, c.co], 2), input([c.n, c.h - 2, c.w - 2, c.co], 3)];
      const runs: Record<string, [string, Inputs, object]> = {
        forward: ['Conv2D', { x, filter }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 }],
        'filter gradient': ['Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, c.c, c.co] }],
        'input gradient': ['Conv2DBackpropInput', { dy, filter }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: [c.n, c.h, c.w, c.c] }],
      };
      for (const [what, [kernel, inputs, attrs]] of Object.entries(runs)) {
        const values: Partial<Record<(typeof WAYS_3X3)[number], Float32Array>> = {};
        for (const way of WAYS_3X3) await convolvingBy(way, async () => void (values[way] = (await runOn('wasm', kernel, inputs, attrs)).values));
        const direct = values.direct!;
        for (const way of ['Winograd', 'Winograd 2x2'] as const) {
          assert.notDeepEqual(values[way], direct, `${c.h}x${c.w}x${c.c} -> ${c.co} ${what}: the same bits as the direct kernel, so ${way}'s kernel did not run`);
          assert.ok(relativeError(values[way]!, direct) <= REL_TOLERANCE, `${what}: ${way} and the direct kernel agree within ${REL_TOLERANCE}`);
        }
        // the filter gradient has 2x2 tiles only; the forward and the input gradient differ by tile
        if (what !== 'filter gradient') assert.notDeepEqual(values.Winograd, values['Winograd 2x2'], `${what}: 4x4 and 2x2 tiles round alike, so one of them did not run`);
      }
    }
  });

  test('FusedConv2D with one bias value for 8 output channels is refused as by the stock kernel, not read past its end', async () => {
    const { x, filter, bias } = { x: input([1, 5, 5, 3], 1510), filter: input([3, 3, 3, 8], 1511), bias: input([1], 1512) };
    await assert.rejects(runOn('wasm', 'FusedConv2D', { x, filter, bias }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1, activation: 'linear' }), /bias/i);
  });

  // conv2dTranspose hands its input to Conv2DBackpropInput as dy without checking it against the
  // output shape: TF.js's own op test 'input=8x8x8,output=4x4x8,f=8,s=1,inDepth=8,p=same vec4'.
  test('Conv2DBackpropInput with a dy larger than the convolution output (conv2dTranspose 8x8 -> 4x4, 8x8 filter, same)', async () => {
    await assertMatchesCpu('Conv2DBackpropInput', { dy: input([1, 8, 8, 8], 1500), filter: input([8, 8, 8, 8], 1501) }, {
      strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 4, 4, 8],
    });
    const transposed = async (backend: string): Promise<Float32Array> => {
      assert.ok(await tf.setBackend(backend));
      const x = tf.tensor4d(Float32Array.from({ length: 8 * 8 * 8 }, (_, i) => i % 5), [1, 8, 8, 8]);
      const w = tf.tensor4d(Float32Array.from({ length: 8 * 8 * 8 * 8 }, (_, i) => i % 5), [8, 8, 8, 8]);
      const y = tf.conv2dTranspose(x, w, [1, 4, 4, 8], 1, 'same');
      const values = (await y.data()) as Float32Array;
      tf.dispose([x, w, y]);
      return values;
    };
    const wasm = await transposed('wasm');
    const cpu = await transposed('cpu');
    assert.equal(cpu[0], 512, 'the cpu backend no longer gives the op test expected value');
    assert.deepEqual(Array.from(wasm), Array.from(cpu));
  });

  const POOL_CASES = [
    { shape: [3, 24, 24, 24], size: 2, stride: 2, pad: 'valid' }, // final, after c1
    { shape: [2, 11, 11, 64], size: 2, stride: 2, pad: 'valid' }, // pooled, odd size: last row/column unused
    { shape: [2, 7, 5, 1], size: 2, stride: 2, pad: 'valid' }, // one channel
    { shape: [2, 7, 7, 3], size: 3, stride: 2, pad: 'valid' }, // overlapping windows
    { shape: [1, 5, 6, 2], size: 2, stride: 2, pad: 'same' }, // padding
    { shape: [2, 5, 7, 4], size: 2, stride: 2, pad: 'same' }, // 2x2 windows, odd sizes padded after: last windows half outside
    // no padding, yet a last row and column of part-windows; only the gradient (the project's own
    // kernel) is compared: the stock MaxPool it falls back to (XNNPACK) sizes its output from the padding
    { shape: [2, 5, 5, 4], size: 2, stride: 2, pad: 0, dimRoundingMode: 'ceil', gradientOnly: true },
  ] as const;
  for (const [index, p] of POOL_CASES.entries()) {
    const rounding = 'dimRoundingMode' in p ? p.dimRoundingMode : undefined;
    const poolAttrs = { filterSize: p.size, strides: p.stride, pad: p.pad, dimRoundingMode: rounding };
    const label = `${p.shape.join('x')} window ${p.size} stride ${p.stride} ${p.pad}${rounding === undefined ? '' : ` rounding ${rounding}`}`;
    if (!('gradientOnly' in p)) {
      test(`MaxPool ${label}`, async () => {
        await assertMatchesCpu('MaxPool', { x: input([...p.shape], 1400 + index, 0.5) }, poolAttrs);
      });
    }
    for (const tied of [false, true]) {
      test(`MaxPoolGrad ${label}${tied ? ', tied windows' : ''}`, async () => {
        const [n, h, w, c] = p.shape;
        const outSize = (size: number): number =>
          typeof p.pad === 'number' ? Math.ceil((size - p.size) / p.stride + 1) : convOutSize(size, p.size, p.stride, p.pad);
        const [oh, ow] = [outSize(h), outSize(w)];
        // With a quantum of 0.5 most windows hold tied maxima; the cpu backend, like PyTorch, sends
        // the gradient to the first of them.
        const x = input([n, h, w, c], 300 + index, tied ? 0.5 : 0);
        await assertMatchesCpu('MaxPoolGrad', { dy: input([n, oh, ow, c], 400 + index), input: x, output: input([n, oh, ow, c], 0) }, poolAttrs);
      });
    }
  }

  test('MaxPoolGrad of an all-negative window still picks a position (no FLT_MIN start)', async () => {
    const x = { shape: [1, 2, 2, 1], values: Float32Array.from([-3, -1, -2, -1]) };
    const wasm = await runOn('wasm', 'MaxPoolGrad', { dy: { shape: [1, 1, 1, 1], values: Float32Array.of(5) }, input: x, output: { shape: [1, 1, 1, 1], values: Float32Array.of(-1) } }, { filterSize: 2, strides: 2, pad: 'valid' });
    assert.deepEqual(Array.from(wasm.values), [0, 5, 0, 0]);
  });

  const MATMUL_CASES = [
    { a: [256, 800], b: [256, 256], transposeA: true, transposeB: false }, // dW of f1 (batch 256)
    { a: [16, 256], b: [800, 256], transposeA: false, transposeB: true }, // dX of f1
    { a: [3, 5, 7], b: [3, 4, 5], transposeA: true, transposeB: true }, // batched, both flags
    { a: [1, 9], b: [9, 1], transposeA: false, transposeB: false }, // plain: stock kernel
    // Single rank-3 matrices (what the ops hand the kernel): native, 16/4/1-column tails, odd rows.
    { a: [1, 64, 80], b: [1, 64, 48], transposeA: true, transposeB: false },
    { a: [1, 7, 48], b: [1, 36, 48], transposeA: false, transposeB: true },
    { a: [1, 5, 33], b: [1, 33, 10], transposeA: false, transposeB: false },
    { a: [1, 40, 9], b: [1, 17, 40], transposeA: true, transposeB: true },
  ];
  for (const [index, m] of MATMUL_CASES.entries()) {
    test(`BatchMatMul ${m.a.join('x')} (T=${m.transposeA}) by ${m.b.join('x')} (T=${m.transposeB})`, async () => {
      await assertMatchesCpu('BatchMatMul', { a: input(m.a, 500 + index), b: input(m.b, 600 + index) }, {
        transposeA: m.transposeA, transposeB: m.transposeB,
      });
    });
  }

  test('_FusedMatMul with transposed b, bias and relu', async () => {
    // The fused op hands its kernel rank-3 operands.
    await assertMatchesCpu('_FusedMatMul', { a: input([1, 6, 10], 700), b: input([1, 7, 10], 701), bias: input([7], 702) }, {
      transposeA: false, transposeB: true, activation: 'relu', leakyreluAlpha: 0,
    });
    await assertMatchesCpu('_FusedMatMul', { a: input([1, 9, 20], 703), b: input([1, 20, 26], 704), bias: input([26], 705) }, {
      transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0,
    });
  });

  const SUM_CASES = [
    { shape: [3, 24, 24, 24], axis: [0, 1, 2], keepDims: false }, // conv bias gradient
    { shape: [16, 256], axis: [0], keepDims: false }, // linear bias gradient
    { shape: [2, 3, 5], axis: [0, 1], keepDims: true },
    { shape: [4, 6], axis: [1], keepDims: false }, // inner axis: stock kernel
    { shape: [4, 6, 2], axis: [0, 2], keepDims: false }, // non-leading: stock kernel
  ];
  for (const [index, s] of SUM_CASES.entries()) {
    test(`Sum of ${s.shape.join('x')} over [${s.axis.join(', ')}]${s.keepDims ? ' keeping dims' : ''}`, async () => {
      await assertMatchesCpu('Sum', { x: input(s.shape, 800 + index) }, { axis: s.axis, keepDims: s.keepDims });
    });
  }

  test('gradients of a small conv net match the cpu backend end to end', async () => {
    const lossOf = (...[x, w1, w2]: tf.Tensor[]): tf.Tensor => {
      const pooled = tf.relu(tf.maxPool(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'valid'), 2, 2, 'valid'));
      return tf.sum(tf.matMul(tf.reshape(pooled, [x!.shape[0]!, -1]), w2 as tf.Tensor2D));
    };
    const gradients = async (backend: string): Promise<Float32Array[]> => {
      assert.ok(await tf.setBackend(backend));
      const x = tf.tensor4d(randomValues(2 * 10 * 10, 900, 0.5), [2, 10, 10, 1]);
      const w1 = tf.tensor4d(randomValues(3 * 3 * 4, 901), [3, 3, 1, 4]);
      const w2 = tf.tensor2d(randomValues(4 * 4 * 4 * 3, 902), [64, 3]);
      const grads = tf.grads(lossOf)([x, w1, w2]);
      const values = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
      tf.dispose([x, w1, w2, ...grads]);
      return values;
    };
    const wasm = await gradients('wasm');
    const cpu = await gradients('cpu');
    wasm.forEach((g, i) => assert.ok(relativeError(g, cpu[i]!) <= REL_TOLERANCE, `gradient ${i}: ${relativeError(g, cpu[i]!)}`));
  });
});

describe('data-path kernels: Slice and GatherV2 equal the cpu backend', () => {
  test('Slice of a contiguous block and of a strided one', async () => {
    await assertMatchesCpu('Slice', { x: input([6, 4, 3], 1100) }, { begin: [2, 0, 0], size: [3, -1, -1] });
    await assertMatchesCpu('Slice', { x: input([6, 4, 3], 1101) }, { begin: [1, 1, 0], size: [2, 2, 3] });
    await assertMatchesCpu('Slice', { x: input([10], 1102) }, { begin: [7], size: [3] });
  });

  test('GatherV2 of rows (repeated indices), of an inner axis, and of int32 labels', async () => {
    const gather = async (backend: string, x: tf.Tensor, indices: number[], axis: number): Promise<number[]> => {
      assert.ok(await tf.setBackend(backend));
      const onBackend = tf.tensor(await x.data(), x.shape, x.dtype);
      const at = tf.tensor1d(indices, 'int32');
      const out = tf.gather(onBackend, at, axis);
      const values = Array.from(await out.data());
      tf.dispose([onBackend, at, out]);
      return values;
    };
    assert.ok(await tf.setBackend('cpu'));
    const images = tf.tensor(randomValues(7 * 3 * 2, 1200), [7, 3, 2]);
    const labels = tf.tensor1d([3, 1, 4, 1, 5, 9, 2], 'int32');
    for (const [x, indices, axis] of [[images, [6, 0, 3, 3, 1], 0], [images, [2, 0], 1], [labels, [5, 5, 0, 6], 0]] as const) {
      assert.deepEqual(await gather('wasm', x, [...indices], axis), await gather('cpu', x, [...indices], axis));
    }
    assert.ok(await tf.setBackend('wasm'));
    const onWasm = tf.tensor1d([1, 2, 3]);
    const outOfRange = tf.tensor1d([3], 'int32');
    const before = tf.memory().numTensors;
    assert.throws(() => tf.gather(onWasm, outOfRange), /not in \[0, 2\]/);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([images, labels, onWasm, outOfRange]);
  });
});

describe('MaxPool NaN rule and Cast without a copy', () => {
  test('a NaN wins its pooling window (PyTorch propagates NaN), in 4-channel windows', async () => {
    assert.ok(await tf.setBackend('wasm'));
    const x = tf.tensor4d([1, 5, NaN, 6, 3, 7, 2, 8, 0, 1, 0, 1, 0, 1, 0, 1], [1, 2, 2, 4]);
    const pooled = tf.maxPool(x, 2, 2, 'valid');
    const values = Array.from(await pooled.data());
    assert.ok(Number.isNaN(values[2]));
    assert.deepEqual([values[0], values[1], values[3]], [3, 7, 8]);
    tf.dispose([x, pooled]);
  });

  test('a cast to the same dtype shares the data; a real conversion converts', async () => {
    assert.ok(await tf.setBackend('wasm'));
    const x = tf.tensor1d([1.5, -2]);
    const same = tf.cast(x, 'float32');
    const ints = tf.tensor1d([3, 4], 'int32');
    const floats = tf.cast(ints, 'float32');
    assert.equal(same.dataId, x.dataId);
    assert.equal(floats.dtype, 'float32');
    assert.deepEqual(Array.from(await floats.data()), [3, 4]);
    tf.dispose([x, same, ints, floats]);
  });
});

describe('Identity without a copy', () => {
  test('a clone shares the heap block, outlives its source and keeps its value when the source variable is assigned', async () => {
    assert.ok(await tf.setBackend('wasm'));
    const initial = tf.tensor1d([1, 2, 3, 4]);
    const source = tf.variable(initial);
    initial.dispose();
    const backend = tf.backend() as unknown as { refCount(dataId: object): number };
    const referencesBefore = backend.refCount(source.dataId);
    const copy = tf.clone(source);
    assert.equal(copy.dataId, source.dataId);
    assert.equal(backend.refCount(copy.dataId), referencesBefore + 1);
    source.assign(tf.tensor1d([5, 6, 7, 8]));
    assert.deepEqual(Array.from(await copy.data()), [1, 2, 3, 4]);
    source.dispose();
    assert.deepEqual(Array.from(await copy.data()), [1, 2, 3, 4]);
    copy.dispose();
  });
});

describe('the composed kernel set (XNNPACK and JS only, benchmark baseline)', () => {
  test('installs no native kernel and still matches the cpu backend', async () => {
    const composed = await setupWasm({ threads: 1, kernelSet: 'composed' });
    try {
      assert.ok(!composed.kernels.includes('Conv2D') && composed.kernels.includes('Conv2DBackpropFilter'));
      await assertMatchesCpu('Conv2DBackpropFilter', { x: input([2, 12, 12, 24], 1300), dy: input([2, 10, 10, 32], 1301) }, {
        strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 24, 32],
      });
      await assertMatchesCpu('Conv2DBackpropFilter', { x: input([2, 28, 28, 1], 1302), dy: input([2, 24, 24, 24], 1303) }, {
        strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [5, 5, 1, 24],
      });
      await assertMatchesCpu('Conv2DBackpropInput', { dy: input([2, 10, 10, 32], 1304), filter: input([3, 3, 24, 32], 1305) }, {
        strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: [2, 12, 12, 24],
      });
      await assertMatchesCpu('Conv2DBackpropInput', { dy: input([1, 8, 8, 8], 1309), filter: input([8, 8, 8, 8], 1310) }, {
        strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 4, 4, 8],
      });
      const x = input([2, 8, 8, 24], 1306, 0.5);
      const y = await runOn('cpu', 'MaxPool', { x }, { filterSize: 2, strides: 2, pad: 'valid' });
      await assertMatchesCpu('MaxPoolGrad', { dy: input([2, 4, 4, 24], 1307), input: x, output: y }, { filterSize: 2, strides: 2, pad: 'valid' });
      await assertMatchesCpu('Sum', { x: input([2, 6, 6, 24], 1308) }, { axis: [0, 1, 2], keepDims: false });
    } finally {
      await setupWasm({ threads: 1 });
    }
  });
});

describe('the stock kernel set (benchmark baseline)', () => {
  test('installs only the filter gradient, which matches the cpu backend, and can be swapped back', async () => {
    const stock = await setupWasm({ threads: 1, tunedKernels: false });
    try {
      assert.deepEqual(stock.kernels, ['Conv2DBackpropFilter']);
      await assertMatchesCpu('Conv2DBackpropFilter', { x: input([2, 12, 12, 3], 1000), dy: input([2, 10, 10, 4], 1001) }, {
        strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4],
      });
    } finally {
      const tuned = await setupWasm({ threads: 1 });
      assert.ok(tuned.kernels.includes('MaxPoolGrad'));
    }
  });
});
