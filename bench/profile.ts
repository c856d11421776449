/**
 * Where a training step's time goes on the wasm backend: every kernel the step runs is wrapped
 * with a wall clock (./kernel-clock), and the per-kernel total of the timed steps, by kernel and
 * input shapes, is printed largest first. A diagnostic, not a test; `npm run bench` gives the same
 * per kernel name for every net and variant.
 *
 *   tsx bench/profile.ts [net=final, or a net spec as JSON] [threads=1] [steps=5]
 *
 * With threads > 1 the native kernels split each batch with a helper thread; the clock here still
 * measures the calling thread's wall time per kernel, which is what the step waits for.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { buildNet } from '../lib/model';
import type { NetSpec } from '../lib/nets';
import { recipeForStep, type NetName } from '../lib/recipes';
import { setupWasm } from '../lib/wasm/setup';
import { startKernelClock } from './kernel-clock';
import { randomSteps } from './random-steps';

const [netArg = 'final', threadsArg = '1', stepsArg = '5'] = process.argv.slice(2);
const report = await setupWasm({ threads: Number(threadsArg) });
// a ladder name, or a net spec as JSON (lib/nets.ts NetSpec)
const net = buildNet(netArg.startsWith('{') ? (JSON.parse(netArg) as NetSpec) : (netArg as NetName), 1);
// PROFILE_NO_WRAP=1 times the steps alone, to see what the per-kernel clocks cost.
const clock = process.env['PROFILE_NO_WRAP'] === '1'
  ? null
  : startKernelClock('wasm', (config, inputs) => {
    const shapes = Object.values(inputs).map((t) => (t as TensorInfo | undefined)?.shape.join('x') ?? '-');
    return `${config.kernelName} ${shapes.join(' ')}`;
  });
const training = randomSteps(net, recipeForStep(8).optimizer, 256, 1);
const steps = Number(stepsArg);
const stepMs: number[] = [];
for (let step = 0; step < steps + 2; step++) {
  const timed = step >= 2;
  const started = performance.now();
  const runStep = (): Promise<number> => training.step(step);
  await (timed && clock !== null ? clock.measure(runStep) : runStep());
  if (timed) stepMs.push(performance.now() - started);
}
console.log(`${netArg}, ${report.threads} thread(s): steps ${stepMs.map((m) => m.toFixed(0)).join(' ')} ms`);
const median = [...stepMs].sort((a, b) => a - b)[Math.floor(stepMs.length / 2)]!;
const rows = clock?.perStep(steps) ?? [];
const inside = rows.reduce((sum, r) => ({ ms: sum.ms + r.msPerStep, calls: sum.calls + r.callsPerStep }), { ms: 0, calls: 0 });
console.log(`median step ${median.toFixed(1)} ms; ${inside.calls} kernel calls per step, ${inside.ms.toFixed(1)} ms per step inside them`);
for (const { kernel, msPerStep, callsPerStep } of rows.slice(0, Number(process.env['PROFILE_ROWS'] ?? 30))) {
  console.log(`${msPerStep.toFixed(2).padStart(8)} ms/step  ${String(callsPerStep).padStart(4)}x  ${kernel}`);
}
