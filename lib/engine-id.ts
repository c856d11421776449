/**
 * Which build of the engine computed a record's numbers. Machine, backend and threads say where a
 * run happened; the engine says what ran there: on wasm, the kernel set, the SHA-256 of the native
 * kernels' module that was loaded (native/*.wasm: every change to native/train_kernels.c changes it)
 * and XNNPACK's pool size; everywhere, the revision of the project's own engine code.
 *
 * Two records of one machine, backend and threads but another engine are still listed together
 * (a ladder keeps its rows), but no table says that their seconds compare directly.
 */

import { createHash } from 'node:crypto';

/**
 * The revision of the engine code that is not in the native module: how lib/model.ts,
 * lib/optimizer.ts, lib/train.ts and lib/wasm/ route a training step to kernels. Raise it with any
 * change there that can change a step's speed or its numbers.
 *   1: Adam as one kernel where the backend registers it; XNNPACK's pool leaves a core to the
 *      native kernels' helper thread (2026-12-02).
 *   2: the helper thread watches 0.5 ms for its next job before it sleeps; products under 4 MFLOP
 *      (the nets' last layer) are not split between threads (2026-12-02).
 *   3: every conv layer's 2x2 max pool and ReLU (either order) run as one kernel forward and one
 *      backward where the backend has them (lib/pool-relu.ts), with the same bits (2026-12-02).
 *   4: the forward convolution, the input gradient and the pool and its gradient share a batch with
 *      the helper thread in chunks of 1/32 of it, the calling thread from the front, the helper from
 *      the back, until none is left (lib/wasm/native.ts runInChunks), instead of in fixed halves;
 *      the input gradient's filter is transposed once per call, not once per thread. Same bits
 *      (2026-12-02).
 *   5: Adadelta's update of each variable runs as one kernel where the backend has it
 *      (lib/adadelta-step.ts), as Adam's does since r1. Same bits (2026-12-02).
 *   6: valid 3x3 convolutions at stride 1 (every net's second layer) run by Winograd's F(2x2, 3x3)
 *      transforms: forward, input gradient and filter gradient, 16 multiply-adds per 2x2 outputs
 *      and channel pair instead of 36 (native winograd_*, lib/wasm/kernels.ts winogradConv and
 *      winogradFilterGrad). Other bits: the transforms round otherwise than the direct sums, within
 *      the kernels' tolerance of the cpu backend (2026-12-03).
 *   7: the conv layers with a pool and ReLU (all of them but baseline's) take the gradients of
 *      only the values each window passed on, a quarter of the map, where the backend has the
 *      kernels: the first layer runs as one kernel each way (lib/input-conv.ts: the forward writes
 *      the pooled map and each window's position, never the convolution's map), the others with
 *      the pool keeping the positions and one kernel for the map, filter and bias gradients
 *      (lib/conv-pool-relu.ts). The products with a transposed operand pack it into each thread's
 *      panels directly, no transpose first. Same forward bits and input gradients; the filter and
 *      bias gradients of those layers sum in another order (2026-12-03).
 *   8: the Winograd convolutions (every net's 3x3 layer forward, and its input gradient) take
 *      F(4x4, 3x3) tiles: 36 multiply-adds per 4x4 outputs and channel pair instead of 64, each
 *      image copied once into a zero border, the tiles taken 8 at a time; each thread of a batch
 *      shared in chunks keeps its own scratch (native winograd4_*, lib/wasm/kernels.ts
 *      winogradConv). The filter gradient keeps F(2x2, 3x3). Other bits: the larger transform
 *      constants round a little more, within the kernels' tolerance of the cpu backend (2026-12-03).
 */
export const ENGINE_REVISION = 8;

/** What ran on the wasm backend (lib/wasm/setup.ts reports it). */
export interface WasmEngineParts {
  kernelSet: string;
  /** The native kernels' build ('simd', 'relaxed') and the SHA-256 of its module; null for sets without them. */
  native: { build: string; sha256: string } | null;
  xnnpackThreads: number;
}

/** 'wasm: tuned kernels, native simd 3f2a9c1b7d4e, XNNPACK pool 1; engine r1'. */
export function wasmEngineId(parts: WasmEngineParts): string {
  const native = parts.native === null ? '' : `, native ${parts.native.build} ${parts.native.sha256.slice(0, 12)}`;
  return `wasm: ${parts.kernelSet} kernels${native}, XNNPACK pool ${parts.xnnpackThreads}; engine r${ENGINE_REVISION}`;
}

/** 'webgpu: TensorFlow.js kernels; engine r1' for a backend whose kernels are all TensorFlow.js's. */
export function stockEngineId(backend: string): string {
  return `${backend}: TensorFlow.js kernels; engine r${ENGINE_REVISION}`;
}

/** A record's engine, as records carry it (absent from records made before engines were recorded). */
export interface EngineField {
  engine?: string;
}

/** True when both records name the same engine; a record without one matches nothing. */
export function sameEngine(a: EngineField, b: EngineField): boolean {
  return a.engine !== undefined && a.engine === b.engine;
}

/**
 * Why `other`'s seconds do not compare with `mine`'s as far as the engine goes, in words, or null
 * when both ran the same engine: 'its record names no engine (made before engines were recorded)'
 * or 'another engine (wasm: ... r1, not wasm: ... r2)'.
 */
export function engineDifference(mine: EngineField, other: EngineField): string | null {
  if (sameEngine(mine, other)) return null;
  if (other.engine === undefined) return 'its record names no engine (made before engines were recorded)';
  if (mine.engine === undefined) return 'one record names no engine (made before engines were recorded)';
  return `another engine (${other.engine}, not ${mine.engine})`;
}

/** What a table shows of an engine: 8 hex digits of the SHA-256 of its description, or 'not recorded'. */
export function engineTag(engine: string | undefined): string {
  return engine === undefined ? 'not recorded' : createHash('sha256').update(engine).digest('hex').slice(0, 8);
}
