/**
 * Reader for the PyTorch reference values (a folder holding `manifest.json` and one raw
 * little-endian file per array, see its README.md). Test support: nothing in the library depends on
 * that folder existing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type FixtureDtype = 'f32' | 'i8' | 'i16';

export interface FixtureArrayEntry {
  shape: number[];
  dtype: FixtureDtype;
  /** For integer codes: value = code x scale, computed in float32. */
  scale?: number;
}

export type ScheduleCase =
  | {
      kind: 'onecycle';
      max_lr: number;
      total_steps: number;
      pct_start: number;
      anneal_strategy: 'cos' | 'linear';
      div_factor: number;
      final_div_factor: number;
      three_phase?: boolean;
      /** lr[i]: the learning rate optimizer step i uses. */
      lr: number[];
    }
  | { kind: 'step'; lr0: number; gamma: number; step_size: number; epochs: number; lr: number[] };

export type OptimizerCase = (
  | { kind: 'adam'; lr: number; betas: [number, number]; eps: number }
  | { kind: 'adadelta'; lr: number; rho: number; eps: number }
) & {
  /** Array names: start vector [n], gradients [steps, n], parameters after each step [steps, n]. */
  p0: string;
  grads: string;
  after: string;
};

export interface ModelCase {
  name: string;
  /** PyTorch parameter name -> array name, in PyTorch layout. */
  params: Record<string, string>;
  grads: Record<string, string>;
  /** Eval-mode log-probabilities of `batch_x`, [16, 10]. */
  logp: string;
  loss: number;
  param_count: number;
}

/**
 * A short PyTorch training run in training mode: `steps` optimizer steps from `init` on batches of
 * `batch` training images, under OneCycleLR (`max_lr`, `total_steps`; the other OneCycleLR
 * arguments PyTorch's defaults unless given, cycle_momentum off). Optimizer hyperparameters not
 * given here are the ladder recipe's for this net and optimizer kind.
 */
export interface TrajectoryCase {
  /** The net, as lib/model.ts names it. */
  name: string;
  optimizer: 'adam' | 'adadelta';
  max_lr: number;
  total_steps: number;
  pct_start?: number;
  anneal_strategy?: 'cos' | 'linear';
  div_factor?: number;
  final_div_factor?: number;
  three_phase?: boolean;
  /** Optional optimizer hyperparameters (PyTorch names). */
  betas?: [number, number];
  rho?: number;
  eps?: number;
  steps: number;
  batch: number;
  /** Array [steps, batch]: positions in the training files (file order) of each step's batch. */
  indices: string;
  /** Array [steps]: mean NLL of batch s, before its update. */
  losses: string;
  /** Array [16, 10]: eval-mode log-probabilities of `batch_x` after the last step. */
  logp: string;
  /** PyTorch parameter name -> array name of the starting parameters (PyTorch layout). */
  init: Record<string, string>;
  /** PyTorch parameter name -> array name of (after training - init), PyTorch layout. */
  delta: Record<string, string>;
  /** Parameters whose delta holds only the first `n` output rows. */
  delta_rows?: Record<string, number>;
}

export interface FixtureManifest {
  generator: string;
  arrays: Record<string, FixtureArrayEntry>;
  schedules: ScheduleCase[];
  optimizers: OptimizerCase[];
  models: ModelCase[];
  trajectories: TrajectoryCase[];
}

/** One array in PyTorch layout, as float32. */
export interface FixtureArray {
  shape: number[];
  values: Float32Array;
}

export interface PytorchFixtures {
  dir: string;
  manifest: FixtureManifest;
  /** Reads (every call) the named array; throws FixtureError when missing or the wrong size. */
  array(name: string): FixtureArray;
}

/** The fixture folder is missing, incomplete or not in the documented format. */
export class FixtureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FixtureError';
  }
}

const BYTES_PER_CODE: Record<FixtureDtype, number> = { f32: 4, i8: 1, i16: 2 };

/**
 * The folder of PyTorch reference values: `PYTORCH_FIXTURES` if set, else `fallback` (the tests
 * pass the folder their checkout has beside it); neither is a FixtureError saying what to set.
 */
export function pytorchFixtureDir(fallback?: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['PYTORCH_FIXTURES'];
  if (fromEnv) return resolve(fromEnv);
  if (fallback !== undefined) return resolve(fallback);
  throw new FixtureError('no PyTorch reference values: set PYTORCH_FIXTURES to a folder holding manifest.json');
}

/** Opens the folder and parses its manifest; arrays are read on demand. */
export function openPytorchFixtures(dir: string): PytorchFixtures {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new FixtureError(`no manifest.json in ${dir}: set PYTORCH_FIXTURES to the PyTorch fixture folder`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as FixtureManifest;
  for (const key of ['arrays', 'schedules', 'optimizers', 'models', 'trajectories'] as const) {
    if (manifest[key] === undefined) {
      throw new FixtureError(`${manifestPath} has no "${key}": regenerate the fixtures`);
    }
  }
  return { dir, manifest, array: (name) => readFixtureArray(dir, manifest, name) };
}

function readFixtureArray(dir: string, manifest: FixtureManifest, name: string): FixtureArray {
  const entry = manifest.arrays[name];
  if (!entry) throw new FixtureError(`array "${name}" is not in the manifest of ${dir}`);
  const path = join(dir, `${name}.${entry.dtype}`);
  if (!existsSync(path)) throw new FixtureError(`missing fixture file ${path}: regenerate the fixtures`);
  const bytes = readFileSync(path);
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const expectedBytes = count * BYTES_PER_CODE[entry.dtype];
  if (bytes.byteLength !== expectedBytes) {
    throw new FixtureError(
      `${path} has ${bytes.byteLength} bytes, its shape [${entry.shape.join(', ')}] needs ${expectedBytes}`,
    );
  }
  return { shape: [...entry.shape], values: decode(bytes, entry, count, path) };
}

function decode(bytes: Buffer, entry: FixtureArrayEntry, count: number, path: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(count);
  if (entry.dtype === 'f32') {
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * 4, true);
    return values;
  }
  if (entry.scale === undefined) throw new FixtureError(`${path} holds integer codes but has no scale`);
  // code x scale in float32, as the generator did: the product of a float32 scale and an exact
  // small integer, rounded once
  const scale = Math.fround(entry.scale);
  for (let i = 0; i < count; i++) {
    const code = entry.dtype === 'i8' ? view.getInt8(i) : view.getInt16(i * 2, true);
    values[i] = Math.fround(code * scale);
  }
  return values;
}
