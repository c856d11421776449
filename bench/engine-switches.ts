/**
 * The wasm engine's switches that benchmarks turn, each with its two ways. Every switch's "on" is
 * the engine's default; "off" is what ran before it (or another way to the same bits).
 * - chunks: the kernels that can share a batch with the helper thread in chunks doing so
 *   (lib/wasm/native.ts `runInChunks`, the default), or sharing it in halves (`useChunks(false)`,
 *   as the filter gradients always do). Both give the same bits (test/wasm-helper.test.ts).
 * - winograd: valid 3x3 convolutions by Winograd's kernels (since engine r6) or by the direct ones
 *   (`useWinograd(false)`). Their roundings differ.
 * - winograd-tiles: those Winograd convolutions (forward and input gradient) by F(4x4, 3x3) tiles
 *   (since engine r8) or by F(2x2, 3x3) ones (`useWinogradTile(2)`, engine r7's bits). Their
 *   roundings differ.
 * - input-layer: the first layer with its pool and ReLU as one kernel each way (lib/input-conv.ts,
 *   since engine r7), or as the convolution, pool, filter gradient and sum kernels (its forward
 *   kernel unregistered). The filter and bias gradients' rounding differs.
 * - later-layers: the other conv layers with their pool and ReLU backward as one kernel
 *   (lib/conv-pool-relu.ts, since engine r7), or as the pool's, input, filter and bias gradients.
 *   The filter and bias gradients' rounding differs.
 * - fused-layers: input-layer and later-layers together: off is engine r6's bits.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { POOL_RELU_WHERE } from '../lib/conv-pool-relu';
import { INPUT_CONV_POOL_RELU } from '../lib/input-conv';
import { useChunks, useWinograd, useWinogradTile } from '../lib/wasm/native';

export interface EngineSwitch {
  set: (backend: BackendWasm, on: boolean) => void;
  on: string;
  off: string;
}

/**
 * The kernels the switches below have seen registered, by name: shared by all of them, so that one
 * switch can register again what another unregistered (`fused-layers` after `input-layer`).
 */
const seenKernels = new Map<string, tf.KernelConfig>();

/** A fused layer runs where its forward kernel is registered (lib/input-conv.ts, lib/conv-pool-relu.ts `fusable`): on registers them, off unregisters them. */
function useKernels(...names: string[]): EngineSwitch['set'] {
  return (_backend, on) => {
    for (const name of names) {
      const registered = tf.getKernel(name, 'wasm');
      if (registered !== undefined) seenKernels.set(name, registered);
      const config = seenKernels.get(name);
      if (config === undefined) throw new Error(`no ${name} kernel is registered for wasm`);
      if (on && registered === undefined) tf.registerKernel(config);
      if (!on && registered !== undefined) tf.unregisterKernel(name, 'wasm');
    }
  };
}

export const ENGINE_SWITCHES: Readonly<Record<string, EngineSwitch>> = {
  chunks: { set: useChunks, on: 'chunks', off: 'halves' },
  winograd: { set: useWinograd, on: 'Winograd', off: 'direct' },
  'winograd-tiles': { set: (backend, on) => useWinogradTile(backend, on ? 4 : 2), on: '4x4 tiles', off: '2x2 tiles' },
  'input-layer': { set: useKernels(INPUT_CONV_POOL_RELU), on: 'fused', off: 'composed' },
  'later-layers': { set: useKernels(POOL_RELU_WHERE), on: 'fused', off: 'composed' },
  'fused-layers': { set: useKernels(INPUT_CONV_POOL_RELU, POOL_RELU_WHERE), on: 'fused', off: 'composed' },
};

/** The switch named `name`, or a RangeError that lists them. */
export function engineSwitch(name: string): EngineSwitch {
  const found = ENGINE_SWITCHES[name];
  if (found === undefined) throw new RangeError(`switch must be one of ${Object.keys(ENGINE_SWITCHES).join(', ')}, got ${name}`);
  return found;
}
