/**
 * The steps of the speedrun as data: the original study's eight, then step 9, ours. Each recipe is
 * the previous one plus its one change, written as a spread, so the diff between two steps is the lesson. Every number that changes
 * results is written here (TensorFlow.js defaults differ from PyTorch's, so none is left to a
 * default). Source of truth: docs of the original study, summarised in README.md.
 */
import type { NetSpec } from './nets';

export type NetName = 'baseline' | 'pooled' | 'slim' | 'final';
export const NET_NAMES: readonly NetName[] = ['baseline', 'pooled', 'slim', 'final'];

export type OptimizerSpec =
  | { kind: 'adadelta'; lr: number; rho: number; eps: number }
  | { kind: 'adam'; lr: number; beta1: number; beta2: number; eps: number };

export type ScheduleSpec =
  /** StepLR: lr multiplied by `gamma` every `stepSize` epochs. */
  | { kind: 'step'; stepSize: number; gamma: number }
  /** OneCycleLR stepped after every batch; total steps = epochs x steps per epoch. */
  | {
      kind: 'onecycle';
      maxLr: number;
      pctStart: number;
      anneal: 'cos' | 'linear';
      divFactor: number;
      finalDivFactor: number;
      threePhase: boolean;
    };

/** How batches reach the net: step 04's change is the move from the first to the second. */
export type DataPath = 'per-sample' | 'device';

export interface Reference {
  /** The original's time on its GPU (GTX 1660 Ti, PyTorch 1.8), seconds: mean and std. */
  seconds: number;
  secondsStd: number;
  /** The original's reported test accuracy, percent. */
  accuracy: number;
  note: string;
}

export interface Recipe {
  step: number;
  /** Notebook name without extension, e.g. '01-baseline'. */
  slug: string;
  /** The one change this step makes, in a few words. */
  change: string;
  /** One of the ladder's nets by name, or any net as data (lib/nets.ts NetSpec). */
  net: NetName | NetSpec;
  dataPath: DataPath;
  batchSize: number;
  /**
   * Order of the training batches. 'every-epoch': the per-sample loader reshuffles each epoch
   * (steps 1-3). 'once': the training set was permuted once, with a fixed seed, when the
   * preprocessed file was written, and every epoch reads it in that order as contiguous slices
   * (steps 4-8, the original's saved tensors).
   */
  shuffle: 'every-epoch' | 'once';
  /** Drop the epoch's last partial batch (steps 4-5: len // b) or keep it (the rest). */
  dropLast: boolean;
  optimizer: OptimizerSpec;
  schedule: ScheduleSpec;
  /** Most epochs to train (exact length when `stopAtAccuracy` is null). */
  epochs: number;
  /** Stop after the first epoch whose held-out accuracy (percent) reaches this; null trains all epochs. */
  stopAtAccuracy: number | null;
  /** When to measure test accuracy: after every epoch (needed to stop early) or once at the end. */
  evaluate: 'every-epoch' | 'end';
  /**
   * Label smoothing of the training loss, as PyTorch's `CrossEntropyLoss(label_smoothing=...)`:
   * the target puts 1 - s on the true class and s / 10 on every class. Absent (steps 1-8) means 0,
   * the plain negative log-likelihood; evaluation always reports the plain one.
   */
  labelSmoothing?: number;
  /** The original study's numbers for this step; null for a step the original does not have (step 9). */
  reference: Reference | null;
}

const baseline: Recipe = {
  step: 1,
  slug: '01-baseline',
  change: 'stock PyTorch MNIST example',
  net: 'baseline',
  dataPath: 'per-sample',
  batchSize: 64,
  shuffle: 'every-epoch',
  dropLast: false,
  // PyTorch's Adadelta defaults; TF.js's differ (rho 0.95, eps 1e-7)
  optimizer: { kind: 'adadelta', lr: 1.0, rho: 0.9, eps: 1e-6 },
  schedule: { kind: 'step', stepSize: 1, gamma: 0.7 },
  epochs: 14,
  stopAtAccuracy: null,
  evaluate: 'every-epoch',
  reference: { seconds: 172, secondsStd: 0.038, accuracy: 99.185, note: '14 epochs, mean of 2' },
};

const earlyStopping: Recipe = {
  ...baseline,
  step: 2,
  slug: '02-early-stopping',
  change: 'stop at the first epoch with test accuracy >= 99%',
  stopAtAccuracy: 99,
  reference: { seconds: 57.4, secondsStd: 6.85, accuracy: 99.07, note: '3-5 epochs seen' },
};

const smallerNet: Recipe = {
  ...earlyStopping,
  step: 3,
  slug: '03-smaller-net',
  change: 'max pool after conv1, first dropout removed',
  net: 'pooled',
  reference: { seconds: 30.3, secondsStd: 5.28, accuracy: 99.0, note: '2-3 epochs seen' },
};

const dataLoading: Recipe = {
  ...smallerNet,
  step: 4,
  slug: '04-data-loading',
  change: 'dataset preprocessed once, kept on the device, batches are slices',
  dataPath: 'device',
  // the original saved its tensors once, shuffled, and sliced them in that order every epoch,
  // dropping the last partial batch (len // b: 937 steps at 64)
  shuffle: 'once',
  dropLast: true,
  reference: { seconds: 7.31, secondsStd: 1.36, accuracy: 99.0, note: '1-3 epochs seen' },
};

const batch128: Recipe = {
  ...dataLoading,
  step: 5,
  slug: '05-batch-128',
  change: 'batch size 64 -> 128',
  batchSize: 128,
  reference: { seconds: 4.66, secondsStd: 0.583, accuracy: 99.0, note: '2-3 epochs seen' },
};

const oneCycle: Recipe = {
  ...batch128,
  step: 6,
  slug: '06-one-cycle',
  change: 'one-cycle learning rate, peak 4.0, two fixed epochs',
  optimizer: { kind: 'adadelta', lr: 4.0, rho: 0.9, eps: 1e-6 },
  // PyTorch OneCycleLR defaults, momentum cycling off (Adadelta has no momentum)
  schedule: {
    kind: 'onecycle',
    maxLr: 4.0,
    pctStart: 0.3,
    anneal: 'cos',
    divFactor: 25,
    finalDivFactor: 1e4,
    threePhase: false,
  },
  epochs: 2,
  stopAtAccuracy: null,
  evaluate: 'end',
  // one-cycle keeps the last partial batch ((len - 1) // b + 1: 469 at 128), and its
  // total_steps counts it
  dropLast: false,
  reference: { seconds: 3.14, secondsStd: 0.00472, accuracy: 99.15, note: '99.09-99.21% seen' },
};

const batch256Slim: Recipe = {
  ...oneCycle,
  step: 7,
  slug: '07-batch-256-slim',
  change: 'batch 256, last dropout removed, conv widths 32->24 and 64->32',
  net: 'slim',
  batchSize: 256,
  reference: { seconds: 1.74, secondsStd: 0.0183, accuracy: 99.1, note: '2.31 s at batch 256 before slimming' },
};

const final: Recipe = {
  ...batch256Slim,
  step: 8,
  slug: '08-final',
  change: 'pool before ReLU, conv1 kernel 5, fc 256, Adam, one epoch',
  net: 'final',
  optimizer: { kind: 'adam', lr: 0.01, beta1: 0.7, beta2: 0.9, eps: 1e-8 },
  schedule: { ...(batch256Slim.schedule as Extract<ScheduleSpec, { kind: 'onecycle' }>), maxLr: 0.01 },
  epochs: 1,
  reference: { seconds: 0.762, secondsStd: 0.0249, accuracy: 99.04, note: 'mean of 30 seeds, std 0.066' },
};

// Ours, beyond the original's eight: found by a sweep on a validation split (lib/sweep.ts), so the
// original has no number for it.
// #region recipe-beyond
const beyond: Recipe = {
  ...final,
  step: 9,
  slug: '09-beyond',
  change: 'narrower convolutions (16 and 16 maps), label smoothing 0.1, peak learning rate 0.02',
  net: {
    convs: [
      { out: 16, kernel: 5, pool: 'before-relu', relu: true }, // [B, 24, 24, 16] -> [B, 12, 12, 16]
      { out: 16, kernel: 3, pool: 'before-relu', relu: true }, // [B, 10, 10, 16] -> [B, 5, 5, 16]
    ],
    dropout2d: 0,
    fc: 256, // [B, 400] -> [B, 256]
    dropout: 0,
  },
  // the search (bench/grids/step9-search.json, step9-finalists.json) chose these on a validation split
  labelSmoothing: 0.1,
  schedule: { ...(final.schedule as Extract<ScheduleSpec, { kind: 'onecycle' }>), maxLr: 0.02 },
  reference: null,
};
// #endregion recipe-beyond

/** The ladder, in order: RECIPES[0] is step 1. */
export const RECIPES: readonly Recipe[] = [
  baseline,
  earlyStopping,
  smallerNet,
  dataLoading,
  batch128,
  oneCycle,
  batch256Slim,
  final,
  beyond,
];

/** The range of steps as users write it, e.g. '1-9', from RECIPES. */
export function stepRange(): string {
  return `1-${RECIPES.length}`;
}

/** The recipe of step `step` (1 to RECIPES.length); throws naming the allowed values otherwise. */
export function recipeForStep(step: number): Recipe {
  const recipe = RECIPES.find((r) => r.step === step);
  if (!recipe) {
    throw new RangeError(`unknown step ${String(step)}: steps are ${stepRange()}`);
  }
  return recipe;
}

/** The fields in which `next` differs from `previous`, as [field, before, after] rows. */
export function recipeDiff(previous: Recipe, next: Recipe): Array<[string, string, string]> {
  const skip = new Set(['step', 'slug', 'change', 'reference']);
  const rows: Array<[string, string, string]> = [];
  for (const key of Object.keys(next) as Array<keyof Recipe>) {
    if (skip.has(key)) continue;
    // a field one recipe leaves out (labelSmoothing before step 9) reads 'absent'
    const before = JSON.stringify(previous[key]) ?? 'absent';
    const after = JSON.stringify(next[key]) ?? 'absent';
    if (before !== after) rows.push([key, before, after]);
  }
  return rows;
}
