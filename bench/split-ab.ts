/**
 * How the native kernels' helper thread should share a batch, measured in one process: training
 * steps of each net alternate, two at a time, between the kernels that can share in chunks doing so
 * (lib/wasm/native.ts `runInChunks`, the default) and their sharing in halves (`useChunks(false)`,
 * as the filter gradients always do). Alternating step by step in one process puts both under the
 * same machine: a shared machine's speed drifts by tens of percent within minutes, far more than
 * the difference measured. Both ways give the same bits (test/wasm-helper.test.ts).
 *
 *   tsx bench/split-ab.ts [nets=final,slim,pooled] [steps per net=200] [threads=2]
 *
 * Prints the machine and its load, then per net the median and mean ms per step each way and the
 * ratio of the medians (chunks / halves). A diagnostic, like bench/profile.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { currentLoadAverage, describeMachine, machineLabel } from '../lib/machine';
import { buildNet } from '../lib/model';
import { recipeForStep, type NetName } from '../lib/recipes';
import { useChunks } from '../lib/wasm/native';
import { setupWasm } from '../lib/wasm/setup';
import { randomSteps } from './random-steps';

const [netsArg = 'final,slim,pooled', stepsArg = '200', threadsArg = '2'] = process.argv.slice(2);
const report = await setupWasm({ threads: Number(threadsArg) });
const backend = tf.backend() as BackendWasm;
console.log(`${machineLabel(describeMachine())}, load ${currentLoadAverage()}; ${report.engine}; ${report.threads} thread(s)`);
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;
for (const name of netsArg.split(',') as NetName[]) {
  const net = buildNet(name, 1);
  const training = randomSteps(net, recipeForStep(8).optimizer, 256, 1);
  for (let step = 0; step < 4; step++) await training.step(step);
  const ms = { halves: [] as number[], chunks: [] as number[] };
  for (let step = 0; step < Number(stepsArg); step++) {
    const way = (step >> 1) % 2 === 0 ? 'halves' : 'chunks';
    useChunks(backend, way === 'chunks');
    ms[way].push(await training.step(4 + step));
  }
  useChunks(backend, true);
  training.dispose();
  net.dispose();
  const [h, c] = [median(ms.halves), median(ms.chunks)];
  console.log(`${name}: halves ${h.toFixed(2)} ms (mean ${mean(ms.halves).toFixed(2)}), chunks ${c.toFixed(2)} ms (mean ${mean(ms.chunks).toFixed(2)}); ` +
    `chunks / halves ${(c / h).toFixed(3)}; load ${currentLoadAverage()}`);
}
