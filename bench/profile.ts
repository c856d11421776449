/**
 * Where a training step's time goes on the wasm backend: every kernel the step runs is wrapped
 * with a wall clock (wasm kernels are synchronous), and the per-kernel total of the timed steps is
 * printed, largest first. A diagnostic, not a test.
 *
 *   tsx bench/profile.ts [net=final, or a net spec as JSON] [threads=1] [steps=5]
 *
 * With threads > 1 the native kernels split each batch with a helper thread; the clock here still
 * measures the calling thread's wall time per kernel, which is what the step waits for.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { buildNet, lossAndGradients } from '../lib/model';
import { createOptimizer } from '../lib/optimizer';
import type { NetSpec } from '../lib/nets';
import { recipeForStep, type NetName } from '../lib/recipes';
import { setupWasm } from '../lib/wasm/setup';

const [netArg = 'final', threadsArg = '1', stepsArg = '5'] = process.argv.slice(2);
const report = await setupWasm({ threads: Number(threadsArg) });
// a ladder name, or a net spec as JSON (lib/nets.ts NetSpec)
const net = buildNet(netArg.startsWith('{') ? (JSON.parse(netArg) as NetSpec) : (netArg as NetName), 1);
const totals = new Map<string, { ms: number; calls: number }>();
let timing = false;

/** Wraps every registered wasm kernel; nested calls (kernels calling kernels) count in both. */
function wrapKernels(): void {
  const configs = tf.getKernelsForBackend('wasm') as KernelConfig[];
  for (const config of configs) {
    const label = (inputs: NamedTensorInfoMap): string => {
      const shapes = Object.values(inputs).map((t) => (t as TensorInfo | undefined)?.shape.join('x') ?? '-');
      return `${config.kernelName} ${shapes.join(' ')}`;
    };
    const inner = config.kernelFunc;
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        if (!timing) return inner(args);
        const started = performance.now();
        const out = inner(args);
        const key = label(args.inputs);
        const entry = totals.get(key) ?? { ms: 0, calls: 0 };
        entry.ms += performance.now() - started;
        entry.calls += 1;
        totals.set(key, entry);
        return out;
      },
    });
  }
}

// PROFILE_NO_WRAP=1 times the steps alone, to see what the per-kernel clocks cost.
if (process.env['PROFILE_NO_WRAP'] !== '1') wrapKernels();
const optimizer = createOptimizer(recipeForStep(8).optimizer, net.params);
const x = tf.randomNormal([256, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.tidy(() => tf.cast(tf.floor(tf.randomUniform([256], 0, 10, 'float32', 2)), 'int32') as tf.Tensor1D);
const steps = Number(stepsArg);
const stepMs: number[] = [];
for (let step = 0; step < steps + 2; step++) {
  timing = step >= 2;
  const started = performance.now();
  const { loss, grads } = lossAndGradients(net, x, y, { training: true, seed: step });
  optimizer.applyGradients(grads);
  await loss.data();
  if (timing) stepMs.push(performance.now() - started);
  tf.dispose([loss, ...Object.values(grads)]);
}
console.log(`${netArg}, ${report.threads} thread(s): steps ${stepMs.map((m) => m.toFixed(0)).join(' ')} ms`);
const median = [...stepMs].sort((a, b) => a - b)[Math.floor(stepMs.length / 2)]!;
const allKernels = [...totals.values()].reduce((sum, t) => ({ ms: sum.ms + t.ms, calls: sum.calls + t.calls }), { ms: 0, calls: 0 });
console.log(`median step ${median.toFixed(1)} ms; ${allKernels.calls / steps} kernel calls per step, ${(allKernels.ms / steps).toFixed(1)} ms per step inside them`);
const rows = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
for (const [key, { ms, calls }] of rows.slice(0, Number(process.env.PROFILE_ROWS ?? 30))) {
  console.log(`${(ms / steps).toFixed(2).padStart(8)} ms/step  ${String(calls / steps).padStart(4)}x  ${key}`);
}
