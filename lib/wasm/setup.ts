/**
 * Entry point of the wasm engine: makes 'wasm' the active TensorFlow.js backend, ready to train.
 *
 * - Threads: the engine runs on `threads` cores (default: all; opt out with `threads: 1` or
 *   `MNIST_SPEEDRUN_WASM_THREADS=1`). The native kernels split each batch with one helper
 *   worker_thread on the same shared heap (./native), and XNNPACK's pool takes the other
 *   `threads - 1` (`xnnpackPoolThreads`: on 2 cores, one); the stock and composed sets give
 *   XNNPACK all `threads`. How threads are obtained in Node is
 *   explained in ./threads. Default from measurement on a 2-core machine, final net, batch 256:
 *   1 thread 57-65 ms/step, 2 threads 48-50 ms/step (the machine shared with other work).
 *   With the native kernels single-threaded, 2 threads gained almost nothing (60-65 vs 60-62).
 * - Kernels: the training kernels of ./kernels (tuned: native SIMD kernels of native/, run on the
 *   backend's heap, split over the batch with one helper thread when threaded; their relaxed-SIMD
 *   build, with fused multiply-adds, where the runtime has it: ./native-build), or for benchmarks
 *   the earlier XNNPACK-composed set (`kernelSet: 'composed'`) or only the one kernel the stock
 *   backend lacks to train at all (`tunedKernels: false`).
 *
 * Calling it again with other options re-creates the backend (tensors on the old one are lost) or
 * swaps the kernel set; the same options again are a no-op.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { assertKernelsRegistered, createKernelInstaller } from './kernels';
import type { KernelSet } from './kernels';
import { wasmEngineId } from '../engine-id';
import { nativeKernelModule } from './native';
import { nativeBuild, type NativeBuildName } from './native-build';
import { activeWasmThreads, registerThreadedWasmBackend, resolveThreadCount, xnnpackPoolThreads } from './threads';

export interface WasmSetupOptions {
  /** Worker threads for XNNPACK; 'auto' uses every core (or MNIST_SPEEDRUN_WASM_THREADS). */
  threads?: number | 'auto';
  /** Register the project's training kernels (true unless benchmarking the stock backend). */
  tunedKernels?: boolean;
  /** For benchmarks: pick a kernel set by name (overrides `tunedKernels`); see KernelSet. */
  kernelSet?: KernelSet;
}

export interface WasmSetupReport {
  /** Threads the engine runs on: XNNPACK's pool, plus the native kernels' helper where it has one. */
  threads: number;
  /** Threads of XNNPACK's pool (the stock kernels'). */
  xnnpackThreads: number;
  /** Names of the kernels this project registered for the wasm backend. */
  kernels: string[];
  /** Which build of the native kernels the tuned set runs (./native-build); null for the other sets. */
  nativeBuild: NativeBuildName | null;
  /** What ran, for records (lib/engine-id.ts): kernel set, native module's SHA-256, XNNPACK's pool, engine revision. */
  engine: string;
}

/** What the process's 'wasm' backend currently is; the backend registry is process-wide. */
interface EngineState {
  threads: number;
  /** XNNPACK's pool size on the current backend. */
  poolThreads: number;
  stockFactory: Parameters<typeof tf.registerBackend>[1] | null;
  installKernels: (set: KernelSet) => string[];
  kernelSet: KernelSet | null;
  kernels: string[];
}
let engine: EngineState | null = null;

function engineState(): EngineState {
  engine ??= {
    threads: 1,
    poolThreads: 1,
    stockFactory: tf.findBackendFactory('wasm'),
    installKernels: createKernelInstaller(),
    kernelSet: null,
    kernels: [],
  };
  return engine;
}

/**
 * Points 'wasm' at a backend for `threads` threads with `poolThreads` of them in XNNPACK's pool
 * (the package's loader for 1 thread).
 */
async function ensureThreads(state: EngineState, threads: number, poolThreads: number): Promise<void> {
  const initialised = tf.engine().registry.wasm !== undefined;
  if (initialised && state.threads === threads && state.poolThreads === poolThreads) return;
  if (threads > 1) {
    await registerThreadedWasmBackend(threads, poolThreads);
  } else if (state.threads !== 1) {
    tf.removeBackend('wasm');
    if (state.stockFactory === null) throw new Error('the stock wasm backend factory is missing: import @tensorflow/tfjs-backend-wasm');
    tf.registerBackend('wasm', state.stockFactory, 2);
  }
  state.threads = threads;
  state.poolThreads = poolThreads;
}

/** Activates the wasm backend with the requested threads and kernels. */
export async function setupWasm(options: WasmSetupOptions = {}): Promise<WasmSetupReport> {
  const state = engineState();
  const threads = resolveThreadCount(options.threads);
  const set: KernelSet = options.kernelSet ?? (options.tunedKernels === false ? 'stock' : 'tuned');
  // before the backend starts: relaxed SIMD asked for where the runtime has none fails here
  if (set === 'tuned') nativeBuild();
  // the tuned set's helper thread takes one of the threads: a kernel set with another pool size re-creates the backend
  await ensureThreads(state, threads, xnnpackPoolThreads(threads, set === 'tuned'));
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('the wasm backend failed to initialise: check that @tensorflow/tfjs-backend-wasm is installed');
  await tf.ready();
  if (state.kernelSet !== set) {
    state.kernels = state.installKernels(set);
    state.kernelSet = set;
  }
  assertKernelsRegistered();
  // the tuned set's module is instantiated now, so that the report says which build was loaded
  const native = set === 'tuned' ? nativeKernelModule(tf.backend() as BackendWasm) : null;
  const xnnpackThreads = activeWasmThreads();
  return {
    threads,
    xnnpackThreads,
    kernels: [...state.kernels],
    nativeBuild: native?.build ?? null,
    engine: wasmEngineId({ kernelSet: set, native, xnnpackThreads }),
  };
}
