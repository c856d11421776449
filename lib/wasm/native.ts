/**
 * The project's own SIMD kernels (native/train_kernels.c, built by tools/build-wasm.sh), run on
 * the wasm backend's own heap: the module imports the backend's WebAssembly.Memory, so a kernel
 * reads its input tensors and writes a `makeOutput` tensor in place, with no copies.
 *
 * Two builds of the same source: one for the single-threaded backend's plain memory, one for the
 * threaded backend's shared memory. The kernels run on the calling thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { projectRoot } from '../project-root';

// from the project root, not import.meta: notebooks load this file as CommonJS through tslab
const NATIVE_DIR = path.join(projectRoot(), 'native');
export const NATIVE_FILES = { plain: 'train_kernels.wasm', shared: 'train_kernels-shared.wasm' } as const;

/** Exports of native/train_kernels.c; every pointer is a byte offset into the tfjs heap. */
interface NativeExports {
  filter_grad(x: number, dy: number, dw: number, totals: number, n: number, h: number, w: number, c: number,
    oh: number, ow: number, co: number, kh: number, kw: number, pt: number, pl: number): void;
  filter_grad_1ch(x: number, dy: number, dw: number, totals: number, n: number, h: number, w: number,
    oh: number, ow: number, co: number, kh: number, kw: number): void;
  conv2d(x: number, w: number, bias: number, y: number, n: number, h: number, w_: number, c: number,
    oh: number, ow: number, co: number, kh: number, kw: number, relu: number): void;
  input_grad(dy: number, w: number, dx: number, wt: number, n: number, h: number, w_: number, c: number,
    oh: number, ow: number, co: number, kh: number, kw: number, pt: number, pl: number): void;
  max_pool_grad_2x2(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number): void;
  sum_rows(x: number, out: number, partials: number, totals: number, rows: number, width: number): void;
}

/** The parts of the backend's Emscripten module used here. */
interface EmscriptenHeap {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  /** The threaded build's memory. */
  wasmMemory?: unknown;
  /** The single-threaded build's exports, memory among them. */
  asm?: { memory?: unknown };
}

/** The slice of the WebAssembly JS API used here (the project's TypeScript lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export class NativeKernelsError extends Error {
  override name = 'NativeKernelsError';
}

/** One instance per backend heap (a new backend instance has a new heap). */
const instances = new WeakMap<object, NativeExports>();

function heapMemory(heap: EmscriptenHeap): { memory: unknown; shared: boolean } {
  const memory = heap.wasmMemory ?? heap.asm?.memory;
  if (memory === undefined) {
    throw new NativeKernelsError('the wasm backend exposes no memory to share: check the @tensorflow/tfjs-backend-wasm version (4.22 expected)');
  }
  const buffer = (memory as { buffer: unknown }).buffer;
  return { memory, shared: typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer };
}

/** The native kernels bound to `backend`'s heap (instantiated on first use). */
export function nativeKernels(backend: BackendWasm): NativeExports {
  const heap = backend.wasm as unknown as EmscriptenHeap;
  const known = instances.get(heap);
  if (known !== undefined) return known;
  const { memory, shared } = heapMemory(heap);
  const file = path.join(NATIVE_DIR, shared ? NATIVE_FILES.shared : NATIVE_FILES.plain);
  if (!fs.existsSync(file)) {
    throw new NativeKernelsError(`${file} is missing: run tools/build-wasm.sh (needs clang and lld)`);
  }
  const module = new wasmApi.Module(fs.readFileSync(file));
  const instance = new wasmApi.Instance(module, { env: { memory } });
  const exports = instance.exports as NativeExports;
  instances.set(heap, exports);
  return exports;
}

/** Byte offset of a tensor's data in the heap. */
export function heapOffset(backend: BackendWasm, tensor: TensorInfo): number {
  return backend.dataIdMap.get(tensor.dataId)!.memoryOffset;
}

/** Runs `body` with `bytes` of scratch heap, freed afterwards. */
export function withScratch<T>(backend: BackendWasm, bytes: number, body: (pointer: number) => T): T {
  const heap = backend.wasm as unknown as EmscriptenHeap;
  const pointer = heap._malloc(bytes) >>> 0;
  try {
    return body(pointer);
  } finally {
    heap._free(pointer);
  }
}
