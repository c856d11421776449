/**
 * The project's own SIMD kernels (native/train_kernels.c, built by tools/build-wasm.sh), run on
 * the wasm backend's own heap: the module imports the backend's WebAssembly.Memory, so a kernel
 * reads its input tensors and writes a `makeOutput` tensor in place, with no copies.
 *
 * Two modules of the same source: one for the single-threaded backend's plain memory, one for the
 * threaded backend's shared memory; each in two builds, plain SIMD and relaxed SIMD (fused
 * multiply-add), of which ./native-build picks one per process. The kernels run on the calling thread.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { projectRoot } from '../project-root';
import { NATIVE_BUILDS, nativeBuild, type NativeBuildName } from './native-build';

// from the project root, not import.meta: notebooks load this file as CommonJS through tslab
const NATIVE_DIR = path.join(projectRoot(), 'native');
/** Every committed module: both heaps of both builds. */
export const NATIVE_FILES: readonly string[] = Object.values(NATIVE_BUILDS).flatMap((build) => [build.plain, build.shared]);

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
  input_grad_filter(w: number, wt: number, taps: number, c: number, co: number): void;
  input_grad(dy: number, wt: number, dx: number, n: number, h: number, w_: number, c: number,
    oh: number, ow: number, co: number, kh: number, kw: number, pt: number, pl: number): void;
  max_pool_grad_2x2(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, relu: number): void;
  max_pool_2x2(x: number, y: number, n: number, h: number, w: number, c: number, relu: number): void;
  sum_rows(x: number, out: number, partials: number, totals: number, rows: number, width: number): void;
  matmul(a: number, b: number, bias: number, c: number, packed: number, m0: number, m1: number, k: number, n: number,
    rowStride: number, kStride: number, relu: number, bt: number): void;
  transpose_2d(src: number, dst: number, rows: number, cols: number): void;
  adam_step(p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, count: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, c1: number, c2: number,
    eps: number, negLr: number): void;
  adadelta_step(p: number, g: number, squareAvg: number, accDelta: number, pOut: number, squareAvgOut: number, accDeltaOut: number,
    count: number, rho: number, oneMinusRho: number, eps: number, lr: number): void;
  winograd_filter(w: number, u: number, ci: number, co: number, flip: number): void;
  winograd_conv(x: number, u: number, bias: number, y: number, scratch: number, n: number, h: number, w: number, ci: number,
    oh: number, ow: number, co: number, pad: number, relu: number): void;
  winograd4_filter(w: number, u: number, ci: number, co: number, flip: number): void;
  winograd4_conv(x: number, u: number, bias: number, y: number, scratch: number, n: number, h: number, w: number, ci: number,
    oh: number, ow: number, co: number, pad: number, relu: number): void;
  winograd_filter_grad(x: number, dy: number, totals: number, scratch: number, n: number, h: number, w: number, ci: number,
    oh: number, ow: number, co: number): void;
  winograd_filter_grad_out(a: number, b: number, dw: number, ci: number, co: number): void;
  conv_pool_relu(x: number, w: number, bias: number, y: number, where: number, n: number, h: number, w_: number, co: number,
    kh: number, kw: number): void;
  conv_pool_relu_grad(x: number, where: number, y: number, g: number, totals: number, scratch: number, n: number, h: number,
    w_: number, co: number, kh: number, kw: number): void;
  max_pool_2x2_where(x: number, y: number, where: number, n: number, h: number, w: number, c: number): void;
  conv_pool_grad(x: number, where: number, y: number, g: number, dmap: number, totals: number, scratch: number,
    n: number, h: number, w_: number, ci: number, co: number, kh: number, kw: number): void;
  conv_pool_grad_out(a: number, b: number, dw: number, db: number, taps: number, ci: number, co: number): void;
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
  /** The build whose module was instantiated. */
  build: NativeBuildName;
  /** SHA-256 (hex) of the module's bytes: which compilation of native/train_kernels.c runs. */
  sha256: string;
  exports: NativeExports;
  helper: Helper | null;
  /** Told of every batch split with the helper, while someone observes (observeSplits). */
  observer: ((timing: SplitTiming) => void) | null;
  /** Whether runInChunks shares batches in chunks (the default) or in halves, as runOverBatch (useChunks, for benchmarks). */
  chunks: boolean;
  /** Whether 3x3 convolutions (forward and input gradient) take the Winograd kernel (the default) or the direct one (useWinograd, for benchmarks). */
  winograd: boolean;
  /** The output tile of those Winograd kernels: 4 (F(4x4, 3x3), the default) or 2 (F(2x2, 3x3)); useWinogradTile, for benchmarks and tests. */
  winogradTile: WinogradTile;
}

/** The output tiles the Winograd convolution has: 2x2 or 4x4 outputs from 4x4 or 6x6 inputs. */
export type WinogradTile = 2 | 4;

/**
 * One batch split between the calling thread and the helper, timed: where a threaded step loses
 * time waiting for the second thread. Milliseconds; the helper's clock readings are wall-clock
 * (performance.timeOrigin + now) on both threads.
 */
export interface SplitTiming {
  kernel: NativeKernelName;
  /** Images (or rows) in the batch, and how many of them ran on the calling thread. */
  count: number;
  here: number;
  /** The calling thread's part, from the job's posting to the end of its own half. */
  hereMs: number;
  /** From the posting to the helper taking the job. */
  pickupMs: number;
  /** The helper's half. */
  helperMs: number;
  /** How long the calling thread waited after its half until it saw the job done. */
  waitMs: number;
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
  const build = nativeBuild();
  const file = path.join(NATIVE_DIR, shared ? NATIVE_BUILDS[build].shared : NATIVE_BUILDS[build].plain);
  if (!fs.existsSync(file)) {
    throw new NativeKernelsError(`${file} is missing: run tools/build-wasm.sh (needs clang-16 and lld-16)`);
  }
  const bytes = fs.readFileSync(file);
  const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const created: NativeRunner = {
    build, sha256, exports: instance.exports as NativeExports, helper: shared ? startHelper(heap, memory, bytes) : null, observer: null, chunks: true, winograd: true, winogradTile: 4,
  };
  runners.set(heap, created);
  if (created.helper !== null) stopHelperWithBackend(backend, created.helper);
  return created;
}

/** The native kernels bound to `backend`'s heap (instantiated on first use). */
export function nativeKernels(backend: BackendWasm): NativeExports {
  return runner(backend).exports;
}

/**
 * Calls `onSplit` with the timing of every batch that `backend`'s native kernels split with their
 * helper thread, until the returned function is called (one observer per backend; a diagnostic:
 * bench/thread-split.ts). Nothing is reported on one thread, where nothing is split. Instantiates
 * the native kernels on that heap if none has run yet: observe only where they run.
 */
export function observeSplits(backend: BackendWasm, onSplit: (timing: SplitTiming) => void): () => void {
  const observed = runner(backend);
  observed.observer = onSplit;
  return () => {
    if (observed.observer === onSplit) observed.observer = null;
  };
}

/**
 * For benchmarks (bench/switch-ab.ts): whether the kernels that can share a batch in chunks
 * (runInChunks) do so on `backend`'s heap, or split it in halves as the filter gradients do. The
 * results are the same bits either way; only the time differs.
 */
export function useChunks(backend: BackendWasm, on: boolean): void {
  runner(backend).chunks = on;
}

/** Winograd kernels for 3x3 convolutions (on, the default) or the direct kernels (off): for benchmarks and tests that compare the two. */
export function useWinograd(backend: BackendWasm, on: boolean): void {
  runner(backend).winograd = on;
}

/** Whether 3x3 convolutions on `backend` take the Winograd kernels (see useWinograd). */
export function winogradOn(backend: BackendWasm): boolean {
  return runner(backend).winograd;
}

/** F(4x4, 3x3) (4, the default) or F(2x2, 3x3) (2) for the Winograd convolutions on `backend`: for benchmarks and tests that compare the two. */
export function useWinogradTile(backend: BackendWasm, tile: WinogradTile): void {
  runner(backend).winogradTile = tile;
}

/** The Winograd convolutions' output tile on `backend` (see useWinogradTile). */
export function winogradTile(backend: BackendWasm): WinogradTile {
  return runner(backend).winogradTile;
}

/** Which build of the native kernels runs on `backend`'s heap, and its module's SHA-256 (instantiating them if not yet done). */
export function nativeKernelModule(backend: BackendWasm): { build: NativeBuildName; sha256: string } {
  const { build, sha256 } = runner(backend);
  return { build, sha256 };
}

// ---------------------------------------------------------------------------------------------
// A helper thread for the shared heap of the threaded backend
//
// One worker_thread instantiates the same module on the same shared memory and shares the work of
// a batch with the calling thread. A job is posted through a small control block on the heap
// (Atomics, no messages): [state, kernel index, argument count, mode, claimed, images, chunk,
// arguments..., helper status]; state 0 idle, 1 posted, 3 taken by the helper, 2 done, -1 the
// kernel threw; helper status 0 starting, 1 ready. Two modes:
// - halves (mode 0): the helper runs the second half of the batch, with the arguments as posted,
//   while the calling thread runs the first (kernels that sum over the batch into per-half totals);
// - chunks (mode 1): both threads claim chunks of `chunk` images from the shared counter `claimed`
//   until every chunk is claimed, the calling thread the first chunks in order, the helper the last
//   ones backwards (kernels whose every output belongs to one image: which thread runs an image
//   does not change a bit of it). The posted arguments are three rows, the arguments for
//   images (0, 0), and what one more first image and one more image in the chunk add to each
//   (every argument is affine in both: pointers advance by an image's bytes, the count is the
//   count). The calling thread never waits for the helper to pick the job up: if it has not, the
//   calling thread takes every chunk, then takes the job back.
// After the words, two float64 wall-clock readings by the helper: when it took the job and when it
// finished it (for observeSplits). Until the helper says it is ready every batch runs here, so
// a helper that never starts costs nothing but its half; once it has died (its 'error' or 'exit'
// event) the batches stay here and a message says so. No wait is unbounded: a job the helper has
// not taken within JOB_PICKUP_MS is taken back and run here. The worker is unref'ed (it never keeps
// the process alive) and terminated when its backend is disposed (re-created or reset).
// ---------------------------------------------------------------------------------------------

const KERNEL_NAMES: readonly NativeKernelName[] = [
  'filter_grad', 'filter_grad_1ch', 'clear_f64', 'totals_to_f32', 'conv2d', 'input_grad', 'max_pool_grad_2x2', 'sum_rows',
  'matmul', 'transpose_2d', 'max_pool_2x2', 'winograd_conv', 'winograd_filter_grad', 'conv_pool_relu', 'conv_pool_relu_grad',
  'max_pool_2x2_where', 'conv_pool_grad', 'winograd4_conv',
];
const MAX_ARGS = 16;
/** Word offsets in the control block. */
const W = { state: 0, kernel: 1, argc: 2, mode: 3, claimed: 4, images: 5, chunk: 6, args: 7 } as const;
const CONTROL_WORDS = W.args + 3 * MAX_ARGS + 1;
const STATUS_WORD = CONTROL_WORDS - 1;
const HALVES = 0;
const CHUNKS = 1;
/** Byte offset, from the control block, of the helper's two float64 clock readings. */
const TIMES_OFFSET = CONTROL_WORDS * 4;
const CONTROL_BYTES = TIMES_OFFSET + 16;
const IDLE = 0;
const POSTED = 1;
const DONE = 2;
const TAKEN = 3;
const FAILED = -1;
const READY = 1;
/**
 * How long the helper watches for the next job after each one before it sleeps. Measured on a
 * 2-core Xeon (random batches, 60 steps, 3 alternated runs each): step 9's net 17.0-17.4 ms per
 * step without, 16.1-16.7 ms with 0.5 ms; step 8's 33.5-34.0 against 33.0-33.3 ms.
 */
const HELPER_SPIN_MS = 0.5;
/** How long a posted job may wait for the helper to take it before it is run here instead. */
const JOB_PICKUP_MS = 10_000;
/** How long a job the helper has taken may run before the run is stopped as hung. */
const JOB_RUN_MS = 300_000;
/** How long the helper may take to say it is ready before it is given up. */
const START_MS = 30_000;

interface Helper {
  control: number;
  memory: { buffer: ArrayBufferLike };
  worker: Worker;
  startedAt: number;
  /** Why the helper can no longer be used; null while it can. */
  stopped: string | null;
}

const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { memory, bytes, control, names } = workerData;
const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
const view = () => new Int32Array(memory.buffer, control, ${CONTROL_WORDS});
const clock = () => performance.timeOrigin + performance.now();
Atomics.store(view(), ${STATUS_WORD}, ${READY});
for (;;) {
  const words = view();
  let state = Atomics.load(words, 0);
  // the next job of a training step usually comes within tenths of a millisecond: watch for it
  // a moment before sleeping, since waking from Atomics.wait takes 0.05-0.5 ms
  const until = performance.now() + ${HELPER_SPIN_MS};
  while (state !== ${POSTED} && performance.now() < until) state = Atomics.load(words, 0);
  if (state !== ${POSTED}) { Atomics.wait(words, 0, state); continue; }
  if (Atomics.compareExchange(words, 0, ${POSTED}, ${TAKEN}) !== ${POSTED}) continue;
  const times = new Float64Array(memory.buffer, control + ${TIMES_OFFSET}, 2);
  times[0] = clock();
  const kernel = kernels[names[words[${W.kernel}]]];
  const argc = words[${W.argc}];
  const base = Array.from(words.subarray(${W.args}, ${W.args} + argc));
  try {
    if (words[${W.mode}] === ${HALVES}) {
      kernel(...base);
    } else {
      const perFirst = words.subarray(${W.args} + argc, ${W.args} + 2 * argc);
      const perCount = words.subarray(${W.args} + 2 * argc, ${W.args} + 3 * argc);
      const images = words[${W.images}], chunk = words[${W.chunk}], chunks = Math.ceil(images / chunk);
      // the helper's chunks are the last ones, from the end backwards
      for (let taken = 0; Atomics.add(words, ${W.claimed}, 1) < chunks; taken++) {
        const first = (chunks - 1 - taken) * chunk;
        const count = Math.min(chunk, images - first);
        kernel(...base.map((value, i) => value + first * perFirst[i] + count * perCount[i]));
      }
    }
  } catch (error) {
    Atomics.store(words, 0, ${FAILED});
    Atomics.notify(words, 0);
    throw error;
  }
  times[1] = clock();
  Atomics.store(words, 0, ${DONE});
  Atomics.notify(words, 0);
}
`;

function startHelper(heap: EmscriptenHeap, memory: unknown, bytes: Buffer): Helper | null {
  const control = heap._malloc(CONTROL_BYTES) >>> 0;
  new Uint8Array((memory as Helper['memory']).buffer, control, CONTROL_BYTES).fill(0);
  let worker: Worker;
  try {
    worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { memory, bytes, control, names: KERNEL_NAMES } });
  } catch (error) {
    heap._free(control);
    console.warn(`native kernels: the helper thread did not start (${messageOf(error)}); running on one thread`);
    return null;
  }
  const helper: Helper = { control, memory: memory as Helper['memory'], worker, startedAt: performance.now(), stopped: null };
  worker.on('error', (error) => stopHelper(helper, `the helper thread stopped: ${messageOf(error)}`));
  worker.on('exit', (code) => stopHelper(helper, `the helper thread exited with code ${code}`));
  worker.unref();
  return helper;
}

/** Marks the helper unusable, says why once, and ends its thread. */
function stopHelper(helper: Helper, reason: string, quiet = false): void {
  if (helper.stopped !== null) return;
  helper.stopped = reason;
  if (!quiet) console.warn(`native kernels: ${reason}; running on one thread`);
  void helper.worker.terminate();
}

/** Ends the helper thread when its backend is disposed (tf.removeBackend, engine reset, setupWasm). */
function stopHelperWithBackend(backend: BackendWasm, helper: Helper): void {
  const dispose = backend.dispose.bind(backend);
  backend.dispose = () => {
    stopHelper(helper, 'the backend was disposed', true);
    dispose();
  };
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

function controlWords(helper: Helper): Int32Array {
  // A fresh view each time: growing the heap replaces the buffer object.
  return new Int32Array(helper.memory.buffer, helper.control, CONTROL_WORDS);
}

/** The helper, when it is running and has said it is ready. */
function readyHelper(helper: Helper | null): Helper | null {
  if (helper === null || helper.stopped !== null) return null;
  if (Atomics.load(controlWords(helper), STATUS_WORD) === READY) return helper;
  if (performance.now() - helper.startedAt > START_MS) stopHelper(helper, `the helper thread did not start within ${START_MS / 1000} s`);
  return null;
}

/** Waits while the job is in `state`, at most `ms`; the state it ended in. */
function waitWhile(words: Int32Array, state: number, ms: number): number {
  const deadline = performance.now() + ms;
  let now = Atomics.load(words, 0);
  while (now === state) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    Atomics.wait(words, 0, state, left);
    now = Atomics.load(words, 0);
  }
  return now;
}

/**
 * Runs `name` over a batch of `count`: with a helper thread, images [0, count/2) here and the rest
 * on the helper, both at once; otherwise, or when `split` is false (a job too small to share), all here. `args(first, count, half)` gives the kernel's
 * arguments for a range of images; `half` (0 or 1) picks per-half scratch where results are summed.
 * Returns whether the batch was split (half 1's scratch holds a result).
 */
export function runOverBatch(
  backend: BackendWasm, name: NativeKernelName, count: number,
  args: (first: number, count: number, half: 0 | 1) => number[],
  split = true,
): boolean {
  const { exports: kernels, helper: maybeHelper, observer } = runner(backend);
  const kernel = kernels[name] as (...values: number[]) => void;
  const helper = readyHelper(maybeHelper);
  if (helper === null || count < 2 || !split) {
    kernel(...args(0, count, 0));
    return false;
  }
  const firstCount = Math.ceil(count / 2);
  const words = controlWords(helper);
  const theirs = args(firstCount, count - firstCount, 1);
  if (theirs.length > MAX_ARGS) throw new NativeKernelsError(`${name} takes ${theirs.length} arguments, the control block holds ${MAX_ARGS}`);
  words[W.kernel] = KERNEL_NAMES.indexOf(name);
  words[W.argc] = theirs.length;
  words[W.mode] = HALVES;
  words.set(theirs, W.args);
  const posted = observer === null ? 0 : wallClock();
  Atomics.store(words, 0, POSTED);
  Atomics.notify(words, 0);
  kernel(...args(0, firstCount, 0));
  const hereDone = observer === null ? 0 : wallClock();
  const state = waitWhile(words, POSTED, JOB_PICKUP_MS);
  if (state === POSTED && Atomics.compareExchange(words, 0, POSTED, IDLE) === POSTED) {
    // never taken: the helper is gone or stuck; its half runs here
    stopHelper(helper, `the helper thread took no job for ${JOB_PICKUP_MS / 1000} s`);
    kernel(...theirs);
    return true;
  }
  awaitHelper(helper, words, { kernel: name, count, here: firstCount, posted, hereDone }, observer);
  return true;
}

/**
 * The arguments for images [first, first + count) as three rows, where the arguments are affine in
 * both: at (0, 0), and what one more `first` and one more `count` add. Throws where they are not
 * (checked at (2, 3)): the helper computes its chunks' arguments from these rows.
 */
export function affineArguments(args: (first: number, count: number) => number[]): { base: number[]; perFirst: number[]; perCount: number[] } {
  const base = args(0, 0);
  const perFirst = args(1, 0).map((value, i) => value - base[i]!);
  const perCount = args(0, 1).map((value, i) => value - base[i]!);
  const check = args(2, 3);
  const predicted = base.map((value, i) => value + 2 * perFirst[i]! + 3 * perCount[i]!);
  if (check.length !== base.length || check.some((value, i) => value !== predicted[i])) {
    throw new NativeKernelsError(`kernel arguments are not affine in the first image and the count: [${check.join(', ')}] where [${predicted.join(', ')}] was expected`);
  }
  return { base, perFirst, perCount };
}

/**
 * Chunks a batch is cut into by runInChunks: the thread that runs ahead takes more, and at the end
 * one waits for the other for at most about a chunk. 32 chunks: 8 images at batch 256.
 */
export const CHUNKS_PER_BATCH = 32;

/**
 * Runs `name` over a batch of `count` images in chunks of 1/CHUNKS_PER_BATCH of it, which the
 * calling thread and the helper (where there is one) take from a shared counter until none is left: the thread that is
 * ahead takes more, so neither waits long for the other (see the control block above). For kernels
 * whose every output belongs to one image, so that which thread ran an image changes no bit:
 * `args(first, count, thread)` must be affine in the first two (pointers plus first times an
 * image's bytes); `thread` (0 the calling thread, 1 the helper) may pick that thread's own scratch.
 * Returns whether the helper took part.
 */
export function runInChunks(
  backend: BackendWasm, name: NativeKernelName, count: number, args: (first: number, count: number, thread: 0 | 1) => number[],
): boolean {
  const chunk = Math.max(1, Math.ceil(count / CHUNKS_PER_BATCH));
  const { exports: kernels, helper: maybeHelper, observer, chunks: inChunks } = runner(backend);
  if (!inChunks) return runOverBatch(backend, name, count, (first, size, half) => args(first, size, half));
  const kernel = kernels[name] as (...values: number[]) => void;
  const helper = readyHelper(maybeHelper);
  if (helper === null || count <= chunk) {
    kernel(...args(0, count, 0));
    return false;
  }
  // the helper's arguments: its own scratch where the kernel has one (thread 1)
  const { base, perFirst, perCount } = affineArguments((first, size) => args(first, size, 1));
  if (base.length > MAX_ARGS) throw new NativeKernelsError(`${name} takes ${base.length} arguments, the control block holds ${MAX_ARGS}`);
  const words = controlWords(helper);
  words[W.kernel] = KERNEL_NAMES.indexOf(name);
  words[W.argc] = base.length;
  words[W.mode] = CHUNKS;
  words[W.images] = count;
  words[W.chunk] = chunk;
  Atomics.store(words, W.claimed, 0);
  words.set(base, W.args);
  words.set(perFirst, W.args + base.length);
  words.set(perCount, W.args + 2 * base.length);
  const posted = observer === null ? 0 : wallClock();
  Atomics.store(words, 0, POSTED);
  Atomics.notify(words, 0);
  // the calling thread's chunks are the first ones, in order; each thread works through its own end
  // of the batch, as with halves, so a net's consecutive kernels find their images in the same core's cache
  const chunks = Math.ceil(count / chunk);
  let here = 0;
  while (Atomics.add(words, W.claimed, 1) < chunks) {
    const size = Math.min(chunk, count - here);
    kernel(...args(here, size, 0));
    here += size;
  }
  const hereDone = observer === null ? 0 : wallClock();
  if (Atomics.compareExchange(words, 0, POSTED, IDLE) === POSTED) {
    // not taken: every chunk ran here
    observer?.({ kernel: name, count, here, hereMs: hereDone - posted, pickupMs: hereDone - posted, helperMs: 0, waitMs: 0 });
    return false;
  }
  awaitHelper(helper, words, { kernel: name, count, here, posted, hereDone }, observer);
  return true;
}

/**
 * Waits for the helper to finish the job it took, tells `observer` how the split went, and leaves
 * the control block idle; a helper that failed or hung is stopped and the kernel's error thrown here.
 */
function awaitHelper(
  helper: Helper, words: Int32Array, job: { kernel: NativeKernelName; count: number; here: number; posted: number; hereDone: number },
  observer: NativeRunner['observer'],
): void {
  const state = waitWhile(words, TAKEN, JOB_RUN_MS);
  const seen = observer === null ? 0 : wallClock();
  Atomics.store(words, 0, IDLE);
  const name = job.kernel;
  if (state === DONE) {
    if (observer !== null) {
      const times = new Float64Array(helper.memory.buffer, helper.control + TIMES_OFFSET, 2);
      const [taken, finished] = [times[0]!, times[1]!];
      observer({
        kernel: name, count: job.count, here: job.here, hereMs: job.hereDone - job.posted, pickupMs: taken - job.posted,
        helperMs: finished - taken, waitMs: seen - job.hereDone,
      });
    }
    return;
  }
  stopHelper(helper, state === FAILED ? `${name} failed on the helper thread` : `${name} ran over ${JOB_RUN_MS / 1000} s on the helper thread`, true);
  throw new NativeKernelsError(
    state === FAILED
      ? `native kernel ${name} failed on the helper thread; rerun with MNIST_SPEEDRUN_WASM_THREADS=1 to see the error here`
      : `native kernel ${name} did not finish on the helper thread within ${JOB_RUN_MS / 1000} s; rerun with MNIST_SPEEDRUN_WASM_THREADS=1`,
  );
}

/** Milliseconds on a clock that every thread of the process shares. */
function wallClock(): number {
  return performance.timeOrigin + performance.now();
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
