/**
 * What one engine switch (bench/engine-switches.ts) changes in whole training runs: each step's
 * recipe, seed by seed, trained with the switch on (the engine's default) and off, alternating run
 * by run in one process after an untimed warm-up, on the wasm backend with all threads. Prints
 * every run, then per step the seconds each way and the test accuracy each way (bench/paired-runs.ts).
 *
 *   MNIST_DIR=... tsx bench/runs-ab.ts [switch=fused-layers] [steps=8] [seeds=10] [--save]
 *
 * --save writes results/bench/<date>-<machine>-<switch>-steps-LIST-seeds-N.json (a result saved
 * before this tool measured more than Winograd's switch has kind 'winograd-ab', and its ways are named
 * direct and winograd).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { loadMnist } from '../lib/data';
import { currentLoadAverage, describeMachine, machineLabel } from '../lib/machine';
import { warmUp } from '../lib/measure';
import { projectRoot } from '../lib/project-root';
import { recipeForStep } from '../lib/recipes';
import { trainRecipe } from '../lib/train';
import { setupWasm } from '../lib/wasm/setup';
import { engineSwitch } from './engine-switches';
import { summarisePairs, type PairedRun, type PairedSummary } from './paired-runs';
import { freshPath, machineSlug } from './result-file';
import { parseSteps } from './steps';

const args = process.argv.slice(2);
const save = args.includes('--save');
const [switchArg = 'fused-layers', stepsArg = '8', seedsArg = '10'] = args.filter((a) => a !== '--save');
const { set, on, off } = engineSwitch(switchArg);
const steps = parseSteps(stepsArg);
const seeds = Number(seedsArg);
if (!Number.isInteger(seeds) || seeds < 1) throw new RangeError(`seeds must be a whole number from 1, got ${seedsArg}`);

const machine = describeMachine();
const startedAt = new Date();
const report = await setupWasm();
const backend = tf.backend() as BackendWasm;
console.log(`${machineLabel(machine)}, load ${currentLoadAverage()}; ${report.engine}; ${report.threads} thread(s); ${seeds} seeds per step, ${on} and ${off} alternating`);
const data = await loadMnist();
const results: { step: number; off: PairedRun[]; on: PairedRun[]; summary: PairedSummary }[] = [];
for (const step of steps) {
  const recipe = recipeForStep(step);
  await warmUp(recipe, data);
  const runs = { off: [] as PairedRun[], on: [] as PairedRun[] };
  for (let seed = 1; seed <= seeds; seed++) {
    // which way goes first alternates with the seed
    for (const way of seed % 2 === 1 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      set(backend, way === 'on');
      const result = await trainRecipe(recipe, data, { seed });
      runs[way].push({ seed, seconds: result.seconds, testAccuracy: result.testAccuracy! });
      console.log(`step ${step} seed ${seed} ${(way === 'on' ? on : off).padEnd(9)} ${result.seconds.toFixed(2)} s, ${result.epochs} epoch(s), ${result.testAccuracy}%; load ${currentLoadAverage()}`);
    }
  }
  set(backend, true);
  const summary = summarisePairs(runs.off, runs.on);
  const { seconds, accuracy } = summary;
  const spread = (s: PairedSummary['accuracy']['a']): string => `${s.mean.toFixed(3)}% ± ${s.std.toFixed(3)} (${s.reached} of ${seeds} >= ${accuracy.target}%)`;
  console.log(`step ${step}: median ${seconds.a.toFixed(2)} s ${off}, ${seconds.b.toFixed(2)} s ${on}; ${on} / ${off} per seed ${seconds.ratio.median.toFixed(3)} ` +
    `(${seconds.ratio.min.toFixed(3)}-${seconds.ratio.max.toFixed(3)}); accuracy ${off} ${spread(accuracy.a)}, ${on} ${spread(accuracy.b)}; ` +
    `${on} - ${off} per seed ${accuracy.difference.mean.toFixed(3)} ± ${accuracy.difference.std.toFixed(3)}`);
  results.push({ step, ...runs, summary });
}
if (save) {
  const root = projectRoot();
  const dir = path.join(root, 'results', 'bench');
  const file = freshPath(dir, `${startedAt.toISOString().slice(0, 10)}-${machineSlug(machine.cpu, machine.cores)}-${switchArg}-steps-${steps.join('-')}-seeds-${seeds}`);
  const record = {
    kind: 'runs-ab', command: `tsx bench/runs-ab.ts ${args.join(' ')}`, switch: switchArg, ways: { on, off },
    startedAt, finishedAt: new Date(), machine, engine: report.engine, threads: report.threads, results,
  };
  fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`written ${path.relative(root, file)}`);
}
