/**
 * Which build of the native kernels (native/train_kernels.c, built by tools/build-wasm.sh) runs:
 * the relaxed-SIMD build, whose multiply-adds are fused (f32x4.relaxed_madd), where this runtime
 * validates a tiny module that uses relaxed_madd (Node 24; Node 20 only when started with
 * --experimental-wasm-relaxed-simd); the plain SIMD build otherwise. `MNIST_SPEEDRUN_WASM_SIMD`
 * (auto, simd, relaxed) picks one by name.
 *
 * Fused multiply-adds round once where the plain build rounds twice: results agree with the cpu
 * backend within the same tolerances (test/parity-wasm.test.ts runs on both builds: Node 20 and 24).
 */
import { readSetting, WASM_SIMD } from '../environment';
import { EXIT_CODES, SpeedrunError } from '../errors';

export type NativeBuildName = 'simd' | 'relaxed';
export const NATIVE_BUILD_NAMES: readonly NativeBuildName[] = ['simd', 'relaxed'];

export interface NativeBuild {
  /** Module for the single-threaded backend's plain heap. */
  plain: string;
  /** Module for the threaded backend's shared heap. */
  shared: string;
  /** For people: what the build's arithmetic is. */
  label: string;
}

export const NATIVE_BUILDS: Readonly<Record<NativeBuildName, NativeBuild>> = {
  simd: { plain: 'train_kernels.wasm', shared: 'train_kernels-shared.wasm', label: 'SIMD, multiply then add' },
  relaxed: {
    plain: 'train_kernels-relaxed.wasm',
    shared: 'train_kernels-relaxed-shared.wasm',
    label: 'relaxed SIMD, fused multiply-add',
  },
};

export const SIMD_ENV_VAR = 'MNIST_SPEEDRUN_WASM_SIMD';
/** The V8 flag that turns relaxed SIMD on in Node versions that ship it switched off (Node 20). */
export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

/**
 * (func (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2))):
 * valid exactly where the runtime runs relaxed SIMD, with its standard opcode (0xfd 0x105).
 */
export const RELAXED_MADD_PROBE: Uint8Array = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, // code section: one body of 11 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // local.get 0, 1, 2
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd
  0x0b, // end
]);

interface ValidateApi {
  validate(bytes: Uint8Array): boolean;
}
const wasmApi = (globalThis as unknown as { WebAssembly: ValidateApi }).WebAssembly;

/** Whether this runtime runs WebAssembly relaxed SIMD (validates RELAXED_MADD_PROBE). */
export function runtimeHasRelaxedSimd(): boolean {
  return wasmApi.validate(RELAXED_MADD_PROBE);
}

/** Relaxed SIMD was asked for by name and this runtime cannot run it (exit code 4). */
export class NativeBuildError extends SpeedrunError {
  constructor(message: string) {
    super(message, EXIT_CODES.backend);
  }
}

/**
 * The build `MNIST_SPEEDRUN_WASM_SIMD` asks for: 'auto' when unset; anything but auto, simd or
 * relaxed is a usage error naming the variable, its value and the allowed values (lib/environment.ts).
 */
export function simdSetting(env: NodeJS.ProcessEnv = process.env): NativeBuildName | 'auto' {
  return readSetting(WASM_SIMD, env) ?? 'auto';
}

/** The build for a setting on a runtime that has relaxed SIMD or not; 'relaxed' without it is an error. */
export function chooseNativeBuild(setting: NativeBuildName | 'auto', hasRelaxedSimd: boolean, nodeVersion: string = process.version): NativeBuildName {
  if (setting === 'simd') return 'simd';
  if (hasRelaxedSimd) return 'relaxed';
  if (setting === 'auto') return 'simd';
  throw new NativeBuildError(
    `${SIMD_ENV_VAR}=relaxed, but Node ${nodeVersion} runs no WebAssembly relaxed SIMD: use Node 24, or start node with ${RELAXED_SIMD_FLAG}, or set ${SIMD_ENV_VAR}=auto`,
  );
}

/** The build that runs in this process: MNIST_SPEEDRUN_WASM_SIMD, else relaxed where the runtime has it. */
export function nativeBuild(env: NodeJS.ProcessEnv = process.env): NativeBuildName {
  return chooseNativeBuild(simdSetting(env), runtimeHasRelaxedSimd());
}
