/**
 * The TypeScript side of bench/pytorch_reference.py: the recipe JSON handed to it, the Python that
 * runs it, and its one-line JSON answer. The bench runs every step it compares through here.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { netSpec, type NetSpec } from '../lib/nets';
import type { Recipe } from '../lib/recipes';

export const PYTORCH_REFERENCE_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pytorch_reference.py');

/** The run settings the script reads beside the recipe. */
export interface PytorchRun {
  /** Seeds torch for the timed run (init, dropout, per-epoch shuffling). */
  seed: number;
  /** torch.set_num_threads (default: every core the process may use). */
  threads?: number;
  /** Train and test on the first this many images (file order) instead of the whole splits. */
  trainCount?: number;
  testCount?: number;
}

/**
 * What the script reads: the recipe as `JSON.stringify(recipe)` gives it, its net always as a
 * description (lib/nets.ts; a ladder net's name becomes its NetSpec, so the Python side builds every
 * net one way), plus the run settings.
 */
export type PytorchRecipeInput = Omit<Recipe, 'net'> & { net: NetSpec } & PytorchRun;

/** The script's answer to a timed run. */
export interface PytorchResult {
  step: number;
  /** Wall seconds of training plus test passes, after an untimed warm-up. */
  seconds: number;
  testAccuracy: number;
  epochs: number;
  batchesPerEpoch: number;
  threads: number;
  torch: string;
  /** TORCH_DEVICE: where the net trained ('cpu', 'cuda', ...). */
  device: string;
  /** Number of trainable values of the net PyTorch built from the description. */
  parameters: number;
}

/** The script's answer to --describe: PyTorch's own batch count and learning rate of every optimizer step. */
export interface PytorchDescription {
  step: number;
  batchesPerEpoch: number;
  totalSteps: number;
  learningRates: number[];
}

/** The recipe JSON handed to the script (a plain object: undefined counts are left out). */
export function pytorchRecipeInput(recipe: Recipe, run: PytorchRun): PytorchRecipeInput {
  const counts = {
    ...(run.trainCount === undefined ? {} : { trainCount: run.trainCount }),
    ...(run.testCount === undefined ? {} : { testCount: run.testCount }),
  };
  const threads = run.threads === undefined ? {} : { threads: run.threads };
  return { ...recipe, net: netSpec(recipe.net), seed: run.seed, ...threads, ...counts };
}

const PYTHONS = ['/usr/bin/python3', 'python3'];

/**
 * A Python that imports torch: the one PYTHON names (no other), else /usr/bin/python3, else
 * python3 on the PATH; or, when none does, why, in one line.
 */
export function findTorchPython(env: NodeJS.ProcessEnv = process.env): string | { skipped: string } {
  const chosen = env['PYTHON'];
  for (const candidate of chosen ? [chosen] : PYTHONS) {
    const probe = spawnSync(candidate, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return {
    skipped: chosen
      ? `PYTHON=${chosen} cannot import torch: install torch for it, or unset PYTHON`
      : `neither ${PYTHONS.join(' nor ')} can import torch: apt-get install python3-torch, or set PYTHON to a Python with torch`,
  };
}

/** Runs the script on `input` (stdin); its last stdout line as JSON. Throws with its last stderr line. */
export function runPytorchReference<T = PytorchResult>(
  python: string,
  input: PytorchRecipeInput,
  options: { mnistDir?: string; describe?: boolean } = {},
): T {
  const args = [PYTORCH_REFERENCE_SCRIPT, '-', ...(options.describe ? ['--describe'] : [])];
  const env = options.mnistDir === undefined ? process.env : { ...process.env, MNIST_DIR: options.mnistDir };
  const child = spawnSync(python, args, { input: JSON.stringify(input), env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const lastLine = child.stdout?.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !lastLine.startsWith('{')) {
    const why = child.error?.message ?? (child.stderr.trim().split('\n').at(-1) || `exit ${String(child.status)}`);
    throw new Error(`bench/pytorch_reference.py (step ${input.step}) failed: ${why}`);
  }
  return JSON.parse(lastLine) as T;
}
