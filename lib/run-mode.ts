/**
 * Run modes: how much of MNIST a run trains on and how long it may train.
 * - full: all 60,000 training and 10,000 test images, each recipe as written (the reference runs);
 * - workshop: a fixed subset and a short budget, so every notebook trains in a few minutes on a
 *   laptop and still reaches about 98-99% test accuracy;
 * - quick: a tiny subset, for CI (38-72% accuracy: it checks that everything runs, nothing more).
 * Chosen by MNIST_SPEEDRUN_MODE (MNIST_SPEEDRUN_QUICK=1 is an alias of quick), or the CLI's
 * --mode NAME, --workshop and --quick. Records of one mode are compared only with records of the
 * same mode, and each non-full mode has its own ledger folder.
 */
import { takeSubset, type MnistArrays } from './data';
import { MODE_NAMES, readModeSettings, type Env } from './environment';
import { UsageError } from './errors';
import type { Recipe } from './recipes';

export type RunMode = (typeof MODE_NAMES)[number];
export const RUN_MODES: readonly RunMode[] = MODE_NAMES;

export interface ModeSettings {
  /** Training images: the first N of the training set (null: all 60,000). */
  trainCount: number | null;
  /** Test images: the first N of the test set (null: all 10,000). */
  testCount: number | null;
  /** Cap on epochs per run (null: the recipe's own); early stopping still applies below it. */
  maxEpochs: number | null;
  /** Cap on timed runs of steps 1-5, which stop early (null: as asked). */
  runs: number | null;
  /** Cap on the seeds of the seed studies (SEED_STUDY_STEPS) and tries over seeds (null: as asked). */
  seeds: number | null;
  /** How the session line and the CLI name the mode. */
  label: string;
}

/**
 * Workshop settings, measured on the 2-core AMD EPYC of the README (wasm, 2 threads, load average
 * about 2) with `npm run notebooks -- --workshop` (each notebook's minutes, kernel start included)
 * and the records it wrote (time per timed run, epochs, test accuracy on all 10,000 test images):
 *   step 1: 55.4 s, 2 epochs, 98.13% (notebook 1.0 min)   step 5: 13.1 s, 2, 98.21% (0.3 min)
 *   step 2: 54.6 s, 2 epochs, 98.13% (1.0 min)            step 6: 12.6 s, 2, 98.46% over 5 seeds (1.1 min)
 *   step 3: 17.0 s, 2 epochs, 98.24% (0.4 min)            step 7: 5.8 s, 2, 97.95% over 5 seeds (0.6 min)
 *   step 4: 15.3 s, 2 epochs, 98.30% (0.4 min)            step 8: 2.9 s, 1, 98.04% over 5 seeds (0.3 min)
 * All eight notebooks: 5.1 minutes. The training subset is the first 20,000 images of the training
 * set (in file order); no early-stopping step reaches 99% in 2 epochs on it, so each trains both.
 */
export const MODES: Readonly<Record<RunMode, ModeSettings>> = {
  full: { trainCount: null, testCount: null, maxEpochs: null, runs: null, seeds: null, label: 'FULL' },
  workshop: { trainCount: 20_000, testCount: null, maxEpochs: 2, runs: 1, seeds: 5, label: 'WORKSHOP MODE' },
  quick: { trainCount: 2048, testCount: 512, maxEpochs: 2, runs: 2, seeds: 2, label: 'QUICK MODE' },
};

/** The mode's settings. */
export function modeSettings(mode: RunMode): ModeSettings {
  return MODES[mode];
}

/** Parses a mode name as typed (for --mode); a UsageError names the allowed values. */
export function parseRunMode(text: string, field = '--mode'): RunMode {
  if ((RUN_MODES as readonly string[]).includes(text)) return text as RunMode;
  throw new UsageError(`${field} '${text}' is not a run mode: use ${RUN_MODES.join(', ')}`);
}

/**
 * The mode MNIST_SPEEDRUN_MODE and MNIST_SPEEDRUN_QUICK ask for (full when neither is set).
 * MNIST_SPEEDRUN_QUICK=1 means quick; beside MNIST_SPEEDRUN_MODE naming another mode it is refused.
 */
export function runModeFromEnv(env: Env = process.env): RunMode {
  return readModeSettings(env);
}

/** True when the environment asks for quick mode (MNIST_SPEEDRUN_QUICK=1 or MNIST_SPEEDRUN_MODE=quick). */
export function isQuickMode(env: Env = process.env): boolean {
  return runModeFromEnv(env) === 'quick';
}

/** The recipe cut to the mode's budget: at most its epochs, otherwise unchanged. */
export function modeRecipe(recipe: Recipe, mode: RunMode): Recipe {
  const cap = MODES[mode].maxEpochs;
  return cap === null || recipe.epochs <= cap ? recipe : { ...recipe, epochs: cap };
}

/**
 * The steps whose notebooks run a seed study (fixed epochs, many seeds): the seeds cap applies to
 * them. Step 9 is studied as step 8 is: 30 seeds in full mode, at most 5 in workshop mode.
 */
export const SEED_STUDY_STEPS: readonly number[] = [6, 7, 8, 9];

/** 'steps 6-9': the seed-study steps in words, for help texts. */
export function seedStudyStepsText(): string {
  return `steps ${SEED_STUDY_STEPS[0]}-${SEED_STUDY_STEPS[SEED_STUDY_STEPS.length - 1]}`;
}

/** The most runs the mode allows for `step`: its seeds cap for a seed-study step, else its runs cap; null: no cap. */
export function runsCap(mode: RunMode, step: number): number | null {
  return SEED_STUDY_STEPS.includes(step) ? MODES[mode].seeds : MODES[mode].runs;
}

/** `wanted` runs of `step` within the mode's cap. */
export function capRuns(mode: RunMode, step: number, wanted: number): number {
  const cap = runsCap(mode, step);
  return cap === null ? wanted : Math.min(wanted, cap);
}

/** The data a mode trains on: the first trainCount training and testCount test images (all where null). */
export function modeData(data: MnistArrays, mode: RunMode): MnistArrays {
  const { trainCount, testCount } = MODES[mode];
  if (trainCount === null && testCount === null) return data;
  return takeSubset(data, Math.min(trainCount ?? data.train.count, data.train.count), Math.min(testCount ?? data.test.count, data.test.count));
}

/** 'WORKSHOP MODE: a fixed subset, at most 2 epochs; compared only with other workshop runs', or '' in full mode. */
export function modeNote(mode: RunMode): string {
  if (mode === 'full') return '';
  const settings = MODES[mode];
  const what = mode === 'workshop' ? `a fixed subset, the first ${settings.trainCount!.toLocaleString('en-US')} training images` : 'a small subset';
  return `${settings.label}: ${what}, at most ${settings.maxEpochs} epochs; compared only with other ${mode} runs`;
}
