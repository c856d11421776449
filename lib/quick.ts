/**
 * Quick mode: every notebook and CLI run on a small subset with a short budget, so CI can execute
 * all eight notebooks in minutes. Switched on by MNIST_SPEEDRUN_QUICK=1 (or the CLI's --quick);
 * the variable takes the yes/no values of lib/environment.ts, anything else is refused.
 * Its results are marked quick in the ledger and never compared with full runs.
 */
import { QUICK as QUICK_SETTING, readSetting, type Env } from './environment';
import type { Recipe } from './recipes';

export interface QuickSettings {
  trainCount: number;
  testCount: number;
  /** Cap on epochs per run. */
  maxEpochs: number;
  /** Timed runs per measurement. */
  runs: number;
  /** Seeds for the many-seed study of the final step. */
  seeds: number;
}

export const QUICK: QuickSettings = { trainCount: 2048, testCount: 512, maxEpochs: 2, runs: 2, seeds: 3 };

/** True when MNIST_SPEEDRUN_QUICK asks for quick mode; a value its rule refuses is a UsageError. */
export function isQuickMode(env: Env = process.env): boolean {
  return readSetting(QUICK_SETTING, env) ?? false;
}

/** The recipe cut to the quick budget: fewer epochs, otherwise unchanged. */
export function quickRecipe(recipe: Recipe, settings: QuickSettings = QUICK): Recipe {
  return { ...recipe, epochs: Math.min(recipe.epochs, settings.maxEpochs) };
}
