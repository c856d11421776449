/**
 * Where a threaded training step loses time to the split between the calling thread and the
 * native kernels' helper (lib/wasm/native.ts `runOverBatch`, `observeSplits`): for every kernel
 * that splits its batch, per call, the calling thread's half, how long the helper took to pick the
 * job up, the helper's half, and how long the calling thread then waited for it. The waits are a
 * cost per call, not per image, so a small net pays a larger share of its step in them.
 *
 *   tsx bench/thread-split.ts [steps=8,9] [training steps=20] [threads=2]
 *
 * A diagnostic, like bench/profile.ts: random images at each recipe's batch size, the recipe's
 * net and optimizer. The machine and its load are printed with the numbers.
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { SplitTiming } from '../lib/wasm/native';

/** One kernel's splits, as means per call (ms), and how often it splits per step. */
export interface SplitRow {
  kernel: string;
  callsPerStep: number;
  hereMs: number;
  pickupMs: number;
  helperMs: number;
  waitMs: number;
}

export interface SplitSummary {
  /** Kernels by their total wait, largest first. */
  rows: SplitRow[];
  /** Per training step: the calling thread's halves, and its waits for the helper. */
  hereMsPerStep: number;
  waitMsPerStep: number;
}

/** Sums `timings`, observed over `steps` training steps, per kernel. */
export function summariseSplits(timings: readonly SplitTiming[], steps: number): SplitSummary {
  if (!(Number.isInteger(steps) && steps > 0)) throw new RangeError(`steps must be a whole number from 1, got ${steps}`);
  const byKernel = new Map<string, { calls: number; here: number; pickup: number; helper: number; wait: number }>();
  for (const t of timings) {
    const sums = byKernel.get(t.kernel) ?? { calls: 0, here: 0, pickup: 0, helper: 0, wait: 0 };
    sums.calls += 1;
    sums.here += t.hereMs;
    sums.pickup += t.pickupMs;
    sums.helper += t.helperMs;
    sums.wait += t.waitMs;
    byKernel.set(t.kernel, sums);
  }
  const rows = [...byKernel.entries()]
    .sort(([, a], [, b]) => b.wait - a.wait)
    .map(([kernel, s]) => ({
      kernel, callsPerStep: s.calls / steps, hereMs: s.here / s.calls, pickupMs: s.pickup / s.calls, helperMs: s.helper / s.calls, waitMs: s.wait / s.calls,
    }));
  const total = (pick: (t: SplitTiming) => number): number => timings.reduce((sum, t) => sum + pick(t), 0) / steps;
  return { rows, hereMsPerStep: total((t) => t.hereMs), waitMsPerStep: total((t) => t.waitMs) };
}

async function main(): Promise<void> {
  const { setupWasm } = await import('../lib/wasm/setup');
  const { observeSplits } = await import('../lib/wasm/native');
  const { buildNet } = await import('../lib/model');
  const { randomSteps } = await import('./random-steps');
  const { recipeForStep } = await import('../lib/recipes');
  const { describeMachine, machineLabel, currentLoadAverage } = await import('../lib/machine');
  const [stepsArg = '8,9', countArg = '20', threadsArg = '2'] = process.argv.slice(2);
  const report = await setupWasm({ threads: Number(threadsArg) });
  const trainingSteps = Number(countArg);
  const backend = tf.backend() as Parameters<typeof observeSplits>[0];
  console.log(`${machineLabel(describeMachine())}, load ${currentLoadAverage()}; ${report.engine}; ${report.threads} thread(s)`);
  for (const step of stepsArg.split(',').map(Number)) {
    const recipe = recipeForStep(step);
    const net = buildNet(recipe.net, 1);
    const training = randomSteps(net, recipe.optimizer, recipe.batchSize, 1);
    for (let i = 0; i < 3; i++) await training.step(i);
    const timings: SplitTiming[] = [];
    const stop = observeSplits(backend, (t) => timings.push(t));
    const started = performance.now();
    for (let i = 0; i < trainingSteps; i++) await training.step(3 + i);
    const stepMs = (performance.now() - started) / trainingSteps;
    stop();
    const { rows, hereMsPerStep, waitMsPerStep } = summariseSplits(timings, trainingSteps);
    console.log(`\nstep ${step} (${net.name}, batch ${recipe.batchSize}): ${stepMs.toFixed(1)} ms per training step, of which ` +
      `${waitMsPerStep.toFixed(2)} ms (${((100 * waitMsPerStep) / stepMs).toFixed(0)}%) waiting for the helper after ${hereMsPerStep.toFixed(2)} ms of own halves; load ${currentLoadAverage()}`);
    console.log('  kernel              calls/step   own half   pick-up   helper half   wait   (ms per call)');
    for (const r of rows) {
      console.log(`  ${r.kernel.padEnd(20)}${r.callsPerStep.toFixed(0).padStart(6)}${r.hereMs.toFixed(3).padStart(13)}${r.pickupMs.toFixed(3).padStart(10)}` +
        `${r.helperMs.toFixed(3).padStart(14)}${r.waitMs.toFixed(3).padStart(8)}`);
    }
    training.dispose();
    net.dispose();
  }
}

// run as a script; importing it, as the tests do, runs nothing
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
