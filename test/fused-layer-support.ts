/**
 * What the fused layers' tests share (test/input-conv.test.ts, test/conv-pool-relu.test.ts):
 * values on a grid or at random, the kernels an op runs, relative errors, and the window positions
 * a 2x2 max pool at stride 2 takes.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { ReluOrder } from '../lib/pool-relu';
import { makeRng } from '../lib/random';

/** Both orders of a layer's ReLU and pool: the same values and gradients. */
export const ORDERS: readonly ReluOrder[] = ['after-relu', 'before-relu'];

/** A layer's input, parameters and the upstream gradient at its output. */
export interface LayerData {
  x: Float32Array;
  filter: Float32Array;
  bias: Float32Array;
  upstream: Float32Array;
}

/**
 * `size` values from `seed`: on a grid of `step` (0: not), where every sum of a few products is
 * exact and ties are many; in [-0.8, 1.2) * scale, the first 40 a flat background of zeros.
 */
export function layerValues(size: number, seed: number, step: number, scale = 1): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: size }, (_, i) => {
    if (i < 40) return 0;
    const u = (rng() * 2 - 0.8) * scale;
    return step > 0 ? Math.round(u / step) * step : u;
  });
}

/** The kernels `f` runs on the active backend, in order: not the scopes that customGrad and the ops open, nor the Identity of tensors saved for the gradient. */
export function kernelsRun(f: () => tf.Tensor): Promise<string[]> {
  const backend = tf.getBackend();
  return tf.profile(f).then((info) => info.kernels.map((k) => k.name).filter((name) => name !== 'Identity' && tf.getKernel(name, backend) !== undefined));
}

/** Largest difference relative to the largest magnitude of `b` (the difference itself where `b` is all zeros). */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Which of each 2x2 window's four (row-major) is its first maximum, for a map [n, oh, ow, co], in pooled NHWC order. */
export function firstMaxPositions(map: Float32Array, [n, oh, ow, co]: number[]): number[] {
  const positions: number[] = [];
  for (let b = 0; b < n!; b++)
    for (let py = 0; py < Math.floor(oh! / 2); py++)
      for (let px = 0; px < Math.floor(ow! / 2); px++)
        for (let c = 0; c < co!; c++) {
          const at = (dy: number, dx: number): number => map[((b * oh! + 2 * py + dy) * ow! + 2 * px + dx) * co! + c]!;
          const window = [at(0, 0), at(0, 1), at(1, 0), at(1, 1)];
          positions.push(window.indexOf(Math.max(...window)));
        }
  return positions;
}

/** The positions a fused kernel kept, four bytes to an int32 (lowest first): one number per pooled value. */
export function keptPositions(where: tf.Tensor): number[] {
  return [...new Uint8Array((where.dataSync() as Int32Array).slice().buffer)];
}

/** Runs `body` with the wasm backend's `name` kernel unregistered (a fused layer then runs composed), registering it again after. */
export function withoutKernel<T>(name: string, body: () => T): T {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`no ${name} kernel is registered for wasm`);
  tf.unregisterKernel(name, 'wasm');
  try {
    return body();
  } finally {
    tf.registerKernel(kernel);
  }
}

/** Each of `parts` has NaNs where the composed ops give them, and only there; the composed ops give some. */
export function assertSameNaNs<K extends string>(fused: Record<K, Float32Array>, composed: Record<K, Float32Array>, parts: readonly K[]): void {
  const nans = (v: Float32Array): number[] => [...v.keys()].filter((i) => Number.isNaN(v[i]!));
  for (const part of parts) {
    assert.ok(nans(composed[part]).length > 0, `${part}: the composed kernels give NaNs`);
    assert.deepEqual(nans(fused[part]), nans(composed[part]), part);
  }
}

/** `run` on the wasm backend (leaking no tensor), then on the cpu backend; the wasm backend is active again after. */
export async function onWasmAndCpu<R>(run: () => R): Promise<{ fused: R; composed: R }> {
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const fused = run();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  await tf.setBackend('cpu');
  const composed = run();
  await tf.setBackend('wasm');
  return { fused, composed };
}
