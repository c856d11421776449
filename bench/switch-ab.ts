/**
 * One switch of the wasm engine, measured in one process: training steps of each net alternate,
 * two at a time, between the switch on and off. Alternating step by step in one process puts both
 * under the same machine: a shared machine's speed drifts by tens of percent within minutes, far
 * more than the differences measured. The switches:
 * - chunks: the kernels that can share a batch with the helper thread in chunks doing so
 *   (lib/wasm/native.ts `runInChunks`, the default), or sharing it in halves (`useChunks(false)`,
 *   as the filter gradients always do). Both give the same bits (test/wasm-helper.test.ts).
 * - winograd: valid 3x3 convolutions by Winograd's kernels (the default since engine r6) or by the
 *   direct ones (`useWinograd(false)`, the engine before). Their roundings differ.
 * - input-layer: the first layer with its pool and ReLU as one kernel each way (lib/input-conv.ts,
 *   the default since engine r7), or as the convolution, pool, filter gradient and sum kernels
 *   (its fused kernel unregistered, the engine before). The bias gradient's rounding differs.
 * - later-layers: the other conv layers with their pool and ReLU backward as one kernel
 *   (lib/conv-pool-relu.ts, since engine r7), or as the pool's, input, filter and bias gradients.
 *   The gradients' rounding differs.
 *
 *   tsx bench/switch-ab.ts [nets=final,slim,pooled] [steps per net=200] [threads=2] [switch=chunks|winograd|input-layer|later-layers]
 *
 * Prints the machine and its load, then per net the median and mean ms per step each way and the
 * ratio of the medians (on / off). A diagnostic, like bench/profile.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { currentLoadAverage, describeMachine, machineLabel } from '../lib/machine';
import { POOL_RELU_WHERE } from '../lib/conv-pool-relu';
import { INPUT_CONV_POOL_RELU } from '../lib/input-conv';
import { buildNet } from '../lib/model';
import { recipeForStep, type NetName } from '../lib/recipes';
import { mean, median } from '../lib/timing';
import { useChunks, useWinograd } from '../lib/wasm/native';
import { setupWasm } from '../lib/wasm/setup';
import { randomSteps } from './random-steps';

/** A fused layer runs where its forward kernel is registered (lib/input-conv.ts, lib/conv-pool-relu.ts `fusable`): on registers it, off unregisters it. */
function useKernel(name: string): (backend: BackendWasm, on: boolean) => void {
  let config: tf.KernelConfig | undefined;
  return (_backend, on) => {
    config ??= tf.getKernel(name, 'wasm');
    if (config === undefined) throw new Error(`no ${name} kernel is registered for wasm`);
    const registered = tf.getKernel(name, 'wasm') !== undefined;
    if (on && !registered) tf.registerKernel(config);
    if (!on && registered) tf.unregisterKernel(name, 'wasm');
  };
}

const SWITCHES = {
  chunks: { set: useChunks, on: 'chunks', off: 'halves' },
  winograd: { set: useWinograd, on: 'Winograd', off: 'direct' },
  'input-layer': { set: useKernel(INPUT_CONV_POOL_RELU), on: 'fused', off: 'composed' },
  'later-layers': { set: useKernel(POOL_RELU_WHERE), on: 'fused', off: 'composed' },
} as const;

const [netsArg = 'final,slim,pooled', stepsArg = '200', threadsArg = '2', switchArg = 'chunks'] = process.argv.slice(2);
if (!(switchArg in SWITCHES)) throw new RangeError(`switch must be one of ${Object.keys(SWITCHES).join(', ')}, got ${switchArg}`);
const { set, on, off } = SWITCHES[switchArg as keyof typeof SWITCHES];
const report = await setupWasm({ threads: Number(threadsArg) });
const backend = tf.backend() as BackendWasm;
console.log(`${machineLabel(describeMachine())}, load ${currentLoadAverage()}; ${report.engine}; ${report.threads} thread(s); ${on} against ${off}`);
for (const name of netsArg.split(',') as NetName[]) {
  const net = buildNet(name, 1);
  const training = randomSteps(net, recipeForStep(8).optimizer, 256, 1);
  for (let step = 0; step < 4; step++) await training.step(step);
  const ms = { on: [] as number[], off: [] as number[] };
  for (let step = 0; step < Number(stepsArg); step++) {
    const way = (step >> 1) % 2 === 0 ? 'off' : 'on';
    set(backend, way === 'on');
    ms[way].push(await training.step(4 + step));
  }
  set(backend, true);
  training.dispose();
  net.dispose();
  const [a, b] = [median(ms.off), median(ms.on)];
  console.log(`${name}: ${off} ${a.toFixed(2)} ms (mean ${mean(ms.off).toFixed(2)}), ${on} ${b.toFixed(2)} ms (mean ${mean(ms.on).toFixed(2)}); ` +
    `${on} / ${off} ${(b / a).toFixed(3)}; load ${currentLoadAverage()}`);
}
