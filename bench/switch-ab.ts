/**
 * One switch of the wasm engine (bench/engine-switches.ts), measured in one process: training steps
 * of each net alternate, two at a time, between the switch on and off. Alternating step by step in
 * one process puts both under the same machine: a shared machine's speed drifts by tens of percent
 * within minutes, far more than the differences measured.
 *
 *   tsx bench/switch-ab.ts [nets=final,slim,pooled] [steps per net=200] [threads=2] [switch=chunks]
 *
 * Prints the machine and its load, then per net the median and mean ms per step each way and the
 * ratio of the medians (on / off). A diagnostic, like bench/profile.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { currentLoadAverage, describeMachine, machineLabel } from '../lib/machine';
import { buildNet } from '../lib/model';
import { recipeForStep, type NetName } from '../lib/recipes';
import { mean, median } from '../lib/timing';
import { setupWasm } from '../lib/wasm/setup';
import { engineSwitch } from './engine-switches';
import { randomSteps } from './random-steps';

const [netsArg = 'final,slim,pooled', stepsArg = '200', threadsArg = '2', switchArg = 'chunks'] = process.argv.slice(2);
const { set, on, off } = engineSwitch(switchArg);
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
