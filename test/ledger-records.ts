/** Hand-made ledger records for the ledger and comparison tests. */
import type { MachineInfo } from '../lib/machine';
import { RECIPES } from '../lib/recipes';
import type { StepRecord } from '../lib/results';

export const LAPTOP: MachineInfo = { cpu: 'Laptop CPU', cores: 8, memoryGiB: 16, platform: 'darwin-arm64', node: 'v24.0.0', tfjs: '4.22.0', loadAverage: 1 };
export const SERVER: MachineInfo = { cpu: 'Server CPU', cores: 2, memoryGiB: 24, platform: 'linux-x64', node: 'v20.20.2', tfjs: '4.22.0', loadAverage: 0.5 };

/** The engine makeRecord's records name (lib/engine-id.ts), as a record made today would. */
export const TEST_ENGINE = 'wasm: tuned kernels, native simd 0123456789ab, XNNPACK pool 1; engine r1';

/** A valid v2 record of `step` with one 10 - step second run; `overrides` replace any field. */
export function makeRecord(step: number, date: string, overrides: Partial<StepRecord> = {}): StepRecord {
  const recipe = RECIPES[step - 1]!;
  return {
    kind: 'step-result',
    version: 2,
    step,
    slug: recipe.slug,
    change: recipe.change,
    recipeHash: `recipe-${step}`,
    dataHash: 'data-full',
    backend: 'wasm',
    device: 'test CPU',
    threads: 2,
    engine: TEST_ENGINE,
    machine: SERVER,
    date,
    source: 'cli',
    quick: false,
    partial: false,
    runs: [{ seed: 1, seconds: 10 - step, epochs: 1, testAccuracy: 99, validationAccuracy: null, partial: false }],
    reference: recipe.reference,
    ...overrides,
  };
}

/** The recipe hashes makeRecord uses, for every step. */
export const TEST_HASHES: ReadonlyMap<number, string> = new Map(RECIPES.map((r) => [r.step, `recipe-${r.step}`]));
