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
import { Worker } from 'node:worker_threads';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { projectRoot } from '../project-root';

// from the project root, not import.meta: notebooks load this file as CommonJS through tslab
const NATIVE_DIR = path.join(projectRoot(), 'native');
export const NATIVE_FILES = { plain: 'train_kernels.wasm', shared: 'train_kernels-shared.wasm' } as const;

/** Exports of native/train_kernels.c; every pointer is a byte offset into the tfjs heap. */
export interface NativeExports {
  filter_grad(x: number, dy: number, totals: number, n: number, h: number, w: number, c: number,
    oh: number, ow: number, co: number, kh: number, kw: number, pt: number, pl: number): void;
  filter_grad_1ch(x: number, dy: number, totals: number, n: number, h: number, w: number,
    oh: number, ow: number, co: number, kh: number, kw: number): void;
  clear_f64(totals: number, count: number): void;
  totals_to_f32(a: number, b: number, out: number, count: number): void;
  conv2d(x: number, w: number, bias: number, y: number, n: number, h: number, w_: number, c: number,
    oh: number, ow: number, co: number, kh: number, kw: number, relu: number): void;
  input_grad(dy: number, w: number, dx: number, wt: number, n: number, h: number, w_: number, c: number,
    oh: number, ow: number, co: number, kh: number, kw: number, pt: number, pl: number): void;
  max_pool_grad_2x2(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number): void;
  max_pool_2x2(x: number, y: number, n: number, h: number, w: number, c: number): void;
  sum_rows(x: number, out: number, partials: number, totals: number, rows: number, width: number): void;
  matmul(a: number, b: number, bias: number, c: number, packed: number, m0: number, m1: number, k: number, n: number,
    rowStride: number, kStride: number, relu: number): void;
  transpose_2d(src: number, dst: number, rows: number, cols: number): void;
}
export type NativeKernelName = keyof NativeExports;

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

/** The kernels on one backend heap, and the helper thread that shares it (shared heaps only). */
interface NativeRunner {
  exports: NativeExports;
  helper: Helper | null;
}

/** One runner per backend heap (a new backend instance has a new heap). */
const runners = new WeakMap<object, NativeRunner>();

function heapMemory(heap: EmscriptenHeap): { memory: unknown; shared: boolean } {
  const memory = heap.wasmMemory ?? heap.asm?.memory;
  if (memory === undefined) {
    throw new NativeKernelsError('the wasm backend exposes no memory to share: check the @tensorflow/tfjs-backend-wasm version (4.22 expected)');
  }
  const buffer = (memory as { buffer: unknown }).buffer;
  return { memory, shared: typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer };
}

function runner(backend: BackendWasm): NativeRunner {
  const heap = backend.wasm as unknown as EmscriptenHeap;
  const known = runners.get(heap);
  if (known !== undefined) return known;
  const { memory, shared } = heapMemory(heap);
  const file = path.join(NATIVE_DIR, shared ? NATIVE_FILES.shared : NATIVE_FILES.plain);
  if (!fs.existsSync(file)) {
    throw new NativeKernelsError(`${file} is missing: run tools/build-wasm.sh (needs clang and lld)`);
  }
  const bytes = fs.readFileSync(file);
  const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } });
  const created: NativeRunner = { exports: instance.exports as NativeExports, helper: shared ? startHelper(heap, memory, bytes) : null };
  runners.set(heap, created);
  return created;
}

/** The native kernels bound to `backend`'s heap (instantiated on first use). */
export function nativeKernels(backend: BackendWasm): NativeExports {
  return runner(backend).exports;
}

// ---------------------------------------------------------------------------------------------
// A helper thread for the shared heap of the threaded backend
//
// One worker_thread instantiates the same module on the same shared memory and runs the second
// half of a batch while the calling thread runs the first. A job is posted through a small
// control block on the heap (Atomics, no messages): [state, kernel index, argument count, args...],
// state 0 idle, 1 posted, 2 done. The worker is unref'ed: it never keeps the process alive.
// ---------------------------------------------------------------------------------------------

const KERNEL_NAMES: readonly NativeKernelName[] = [
  'filter_grad', 'filter_grad_1ch', 'clear_f64', 'totals_to_f32', 'conv2d', 'input_grad', 'max_pool_grad_2x2', 'sum_rows',
  'matmul', 'transpose_2d', 'max_pool_2x2',
];
const CONTROL_WORDS = 24;
const IDLE = 0;
const POSTED = 1;
const DONE = 2;

interface Helper {
  control: number;
  memory: { buffer: ArrayBufferLike };
}

const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { memory, bytes, control, names } = workerData;
const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
for (;;) {
  const words = new Int32Array(memory.buffer, control, ${CONTROL_WORDS});
  const state = Atomics.load(words, 0);
  if (state !== ${POSTED}) { Atomics.wait(words, 0, state); continue; }
  const args = Array.from(words.subarray(3, 3 + words[2]));
  kernels[names[words[1]]](...args);
  Atomics.store(words, 0, ${DONE});
  Atomics.notify(words, 0);
}
`;

function startHelper(heap: EmscriptenHeap, memory: unknown, bytes: Buffer): Helper | null {
  const control = heap._malloc(CONTROL_WORDS * 4) >>> 0;
  const helper: Helper = { control, memory: memory as Helper['memory'] };
  controlWords(helper).fill(0);
  try {
    const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { memory, bytes, control, names: KERNEL_NAMES } });
    worker.unref();
    return helper;
  } catch {
    heap._free(control);
    return null;
  }
}

function controlWords(helper: Helper): Int32Array {
  // A fresh view each time: growing the heap replaces the buffer object.
  return new Int32Array(helper.memory.buffer, helper.control, CONTROL_WORDS);
}

/**
 * Runs `name` over a batch of `count`: with a helper thread, images [0, count/2) here and the rest
 * on the helper, both at once; otherwise all here. `args(first, count, half)` gives the kernel's
 * arguments for a range of images; `half` (0 or 1) picks per-half scratch where results are summed.
 */
export function runOverBatch(
  backend: BackendWasm, name: NativeKernelName, count: number,
  args: (first: number, count: number, half: 0 | 1) => number[],
): boolean {
  const { exports, helper } = runner(backend);
  const kernel = exports[name] as (...values: number[]) => void;
  if (helper === null || count < 2) {
    kernel(...args(0, count, 0));
    return false;
  }
  const firstCount = Math.ceil(count / 2);
  const words = controlWords(helper);
  const theirs = args(firstCount, count - firstCount, 1);
  words[1] = KERNEL_NAMES.indexOf(name);
  words[2] = theirs.length;
  words.set(theirs, 3);
  Atomics.store(words, 0, POSTED);
  Atomics.notify(words, 0);
  kernel(...args(0, firstCount, 0));
  while (Atomics.load(words, 0) === POSTED) Atomics.wait(words, 0, POSTED);
  Atomics.store(words, 0, IDLE);
  return true;
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
