/**
 * One benchmark variant in a process of its own (the wasm backend and its threads are
 * process-wide): `tsx bench/variant.ts <json options>`; prints one JSON line, a `VariantResult`.
 *
 * - kind 'step': ms per training step (forward + backward + Adam, loss read back) of each net at
 *   batch 256 on random data; the first `warmupSteps` steps (XNNPACK operator creation, JIT) are
 *   left out; the median of the timed steps is reported.
 * - kind 'recipe': the real recipe of step `step` (default 8) through `trainRecipe` on MNIST, as the
 *   CLI trains it (all its epochs or until it stops early, test passes included), timed after the
 *   library's untimed warm-up.
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { MnistArrays } from '../lib/data';
import { stockEngineId } from '../lib/engine-id';
import { warmUp } from '../lib/measure';
import { buildNet } from '../lib/model';
import { NET_NAMES, recipeForStep, type NetName, type Recipe } from '../lib/recipes';
import { trainRecipe } from '../lib/train';
import { median } from '../lib/timing';
import type { KernelSet } from '../lib/wasm/kernels';
import type { NativeBuildName } from '../lib/wasm/native-build';
import { observeSplits, type SplitTiming } from '../lib/wasm/native';
import { setupWasm } from '../lib/wasm/setup';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { startKernelClock, type KernelTime } from './kernel-clock';
import { measurePeak } from './peak';
import { randomSteps } from './random-steps';
import { summariseSplits } from './thread-split';

export interface VariantOptions {
  kind: 'step' | 'recipe';
  /** The step of the ladder that kind 'recipe' trains (1 to RECIPES.length; default 8). */
  step?: number;
  backend: 'wasm' | 'cpu';
  threads: number;
  tunedKernels: boolean;
  /** Overrides tunedKernels: 'tuned' (native), 'composed' (earlier XNNPACK-only set) or 'stock'. */
  kernelSet?: KernelSet;
  nets?: NetName[];
  batchSize?: number;
  warmupSteps?: number;
  timedSteps?: number;
  seed?: number;
  /**
   * Measure this machine's f32x4 peak of the build's own multiply-add (bench/peak.ts: plain, or
   * fused for the relaxed build) on the variant's threads just before and just after each net's
   * timed steps (tuned kernels only): the peak the net is held against, taken when it ran.
   */
  peakProbe?: boolean;
}

/** The peak (GFLOP/s) measured just before and just after a net's timed steps. */
export interface PeakAround {
  before: number;
  after: number;
}

export interface RecipeTiming {
  step: number;
  seconds: number;
  epochs: number;
  testAccuracy: number | null;
}

export interface VariantResult {
  options: VariantOptions;
  /** process.version of the child that ran it. */
  node: string;
  threads: number;
  kernels: string[];
  /** Which build of the native kernels the tuned set ran (lib/wasm/native-build.ts); null otherwise. */
  nativeBuild: NativeBuildName | null;
  /** Which engine ran (lib/engine-id.ts), as records name it. */
  engine: string;
  /** Median ms per training step, by net ('step'). */
  msPerStep?: Partial<Record<NetName, number>>;
  /** Where a step's time goes, by net ('step'): the kernels taking the most, clocked over extra steps after the timed ones. */
  kernelsPerStep?: Partial<Record<NetName, KernelTime[]>>;
  /** Mean ms per timed step that the calling thread waited for the native kernels' helper thread, by net ('step', tuned kernels). */
  helperWaitPerStep?: Partial<Record<NetName, number>>;
  /** The peak of the build's multiply-add on the variant's threads around each net's timed steps ('step', with peakProbe). */
  peakAround?: Partial<Record<NetName, PeakAround>>;
  /** A recipe ('recipe'): wall seconds of its epochs plus the test passes, and its result. */
  recipe?: RecipeTiming;
}

async function activate(options: VariantOptions): Promise<Pick<VariantResult, 'threads' | 'kernels' | 'nativeBuild' | 'engine'>> {
  tf.env().set('PROD', true);
  if (options.backend === 'cpu') {
    if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
    return { threads: 1, kernels: [], nativeBuild: null, engine: stockEngineId('cpu') };
  }
  const { threads, kernels, nativeBuild, engine } = await setupWasm({ threads: options.threads, tunedKernels: options.tunedKernels, kernelSet: options.kernelSet });
  return { threads, kernels, nativeBuild, engine };
}

/** Steps clocked per kernel after the timed ones, and how many of the largest kernels are kept. */
const CLOCKED_STEPS = 3;
const KERNELS_KEPT = 6;

/**
 * Median ms of one training step of `net` at `batchSize` (random inputs; cost does not depend on
 * values), then CLOCKED_STEPS more under the kernel clock: the kernels that take the most. With
 * `observeHelper` (the native kernels run) the timed steps' batch splits are observed too: the
 * mean ms per step the calling thread waited for the helper thread (0 on one thread).
 */
async function timeSteps(
  name: NetName, batchSize: number, warmupSteps: number, timedSteps: number, seed: number, observeHelper: boolean,
  probePeak: (() => Promise<number>) | null,
): Promise<{ ms: number; kernels: KernelTime[]; helperWaitMs: number | null; peakAround: PeakAround | null }> {
  const net = buildNet(name, seed);
  const training = randomSteps(net, recipeForStep(8).optimizer, batchSize, seed);
  const runStep = (step: number): Promise<number> => training.step(seed + step);
  const stepMs: number[] = [];
  const splits: SplitTiming[] = [];
  let stopObserving = (): void => {};
  let peakBefore: number | null = null;
  for (let step = 0; step < warmupSteps + timedSteps; step++) {
    if (step === warmupSteps) {
      if (probePeak !== null) peakBefore = await probePeak();
      if (observeHelper) stopObserving = observeSplits(tf.backend() as BackendWasm, (split) => splits.push(split));
    }
    const elapsedMs = await runStep(step);
    if (step >= warmupSteps) stepMs.push(elapsedMs);
  }
  stopObserving();
  const peakAround = peakBefore === null || probePeak === null ? null : { before: peakBefore, after: await probePeak() };
  const clock = startKernelClock(tf.getBackend());
  try {
    for (let step = 0; step < CLOCKED_STEPS; step++) await clock.measure(() => runStep(warmupSteps + timedSteps + step));
  } finally {
    clock.restore();
  }
  training.dispose();
  net.dispose();
  return {
    ms: median(stepMs),
    kernels: clock.perStep(CLOCKED_STEPS).slice(0, KERNELS_KEPT),
    helperWaitMs: observeHelper && timedSteps > 0 ? summariseSplits(splits, timedSteps).waitMsPerStep : null,
    peakAround,
  };
}

/**
 * The untimed warm-up before a recipe is timed: the library's own (lib/measure.ts), so that XNNPACK
 * operators and JIT are ready for every shape the timed run meets, its last partial batch included.
 */
export async function recipeWarmUp(recipe: Recipe, data: MnistArrays): Promise<void> {
  await warmUp(recipe, data);
}

/** A recipe through `trainRecipe`, timed after `recipeWarmUp`. */
export async function runRecipe(recipe: Recipe, data: MnistArrays, seed: number): Promise<RecipeTiming> {
  await recipeWarmUp(recipe, data);
  const result = await trainRecipe(recipe, data, { seed });
  return { step: recipe.step, seconds: result.seconds, epochs: result.epochs, testAccuracy: result.testAccuracy };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as VariantOptions;
  const active = await activate(options);
  const result: VariantResult = { options, node: process.version, ...active };
  const seed = options.seed ?? 1;
  if (options.kind === 'step') {
    result.msPerStep = {};
    result.kernelsPerStep = {};
    // only where the native kernels run: observing would start them (and their helper) for the other sets
    const observeHelper = active.nativeBuild !== null;
    if (observeHelper) result.helperWaitPerStep = {};
    // a short probe (about 1-2 s): the build's own multiply-add on the variant's threads
    const probePeak = options.peakProbe === true && active.nativeBuild !== null
      ? async (): Promise<number> => (await measurePeak(active.nativeBuild === 'relaxed' ? 'fused' : 'plain', { threads: [active.threads], roundSeconds: 0.25, rounds: 2 }))[active.threads]!
      : null;
    if (probePeak !== null) result.peakAround = {};
    for (const name of options.nets ?? NET_NAMES) {
      const { ms, kernels, helperWaitMs, peakAround } = await timeSteps(name, options.batchSize ?? 256, options.warmupSteps ?? 2, options.timedSteps ?? 5, seed, observeHelper, probePeak);
      result.msPerStep[name] = ms;
      result.kernelsPerStep[name] = kernels;
      if (result.helperWaitPerStep !== undefined && helperWaitMs !== null) result.helperWaitPerStep[name] = helperWaitMs;
      if (result.peakAround !== undefined && peakAround !== null) result.peakAround[name] = peakAround;
    }
  } else {
    const { loadMnist } = await import('../lib/data');
    result.recipe = await runRecipe(recipeForStep(options.step ?? 8), await loadMnist(), seed);
  }
  console.log(JSON.stringify(result));
}

// run as a script (bench/bench.ts spawns it); importing it, as the tests do, runs nothing
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
