/**
 * Threads for the wasm backend in Node.
 *
 * Why this file exists: @tensorflow/tfjs-backend-wasm 4.22 ships a threaded SIMD build, but its
 * feature test answers "no threads" whenever it runs in Node, and even with that test forced its
 * loader hands the pthread worker script and the main script to Emscripten as `blob:` URLs, which
 * Node's worker_threads cannot load. XNNPACK then runs every op on one core.
 *
 * What this file does instead, touching nothing outside the wasm backend:
 * - instantiates the threaded build itself (the package's own `wasm-out` factory and .wasm file),
 *   with a worker script on disk: a three-line CommonJS shim written to a private folder of this
 *   process (mkdtemp, mode 0700, removed at exit), which runs the package's worker code;
 * - reports `threads` logical cores to Emscripten's `emscripten_num_logical_cores` import of this
 *   one instance, because the backend caps its XNNPACK pool at half the cores (1 on a 2-core box);
 * - re-registers the 'wasm' backend factory so that `tf.setBackend('wasm')` builds a `BackendWasm`
 *   on such an instance, a new one each time the backend is created (after `tf.engine().reset()`
 *   too); all kernels registered for 'wasm' keep working;
 * - undoes what Emscripten's Node glue leaves on the process: the `global.Worker` it assigns and
 *   the `uncaughtException` / `unhandledRejection` listeners it adds; pool workers are `unref`ed so
 *   that they never keep the process alive.
 *
 * Opt-out: `setupWasm({ threads: 1 })`, or `MNIST_SPEEDRUN_WASM_THREADS=1` in the environment
 * (see `resolveThreadCount`). With one thread the package's own single-threaded loader is used.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Worker as NodeWorker, WorkerOptions } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { UsageError } from '../errors';
import { MAX_WASM_THREADS, readSetting, WASM_THREADS } from '../environment';

export { MAX_WASM_THREADS };
export const THREADS_ENV_VAR = WASM_THREADS.name;
/** tfjs-backend-wasm's own priority for 'wasm'. */
const WASM_BACKEND_PRIORITY = 2;
const THREADED_JS = 'tfjs-backend-wasm-threaded-simd.js';
const THREADED_WASM = 'tfjs-backend-wasm-threaded-simd.wasm';

export class WasmThreadsError extends Error {
  override name = 'WasmThreadsError';
}

/**
 * The thread count `MNIST_SPEEDRUN_WASM_THREADS` asks for: 'auto' when unset, else 'auto' or a
 * count (lib/environment.ts's rule). Anything else is a usage error naming the variable, its value
 * and the allowed values: a typo must stop the run, not send it to a slower backend.
 */
export function threadsSetting(env: NodeJS.ProcessEnv = process.env): number | 'auto' {
  return readSetting(WASM_THREADS, env) ?? 'auto';
}

/**
 * Thread count to use: an explicit number wins; otherwise `MNIST_SPEEDRUN_WASM_THREADS` (see
 * threadsSetting), otherwise every available core. Always within 1..MAX_WASM_THREADS.
 */
export function resolveThreadCount(
  requested: number | 'auto' | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cores: number = os.availableParallelism(),
): number {
  let wanted: number | 'auto' = requested ?? 'auto';
  if (wanted === 'auto') wanted = threadsSetting(env);
  else if (!Number.isInteger(wanted) || wanted < 1) {
    throw new UsageError(`threads must be a positive whole number or 'auto', got ${wanted}`);
  }
  const count = wanted === 'auto' ? cores : wanted;
  return Math.min(MAX_WASM_THREADS, Math.max(1, count));
}

/** The parts of the Emscripten module of the threaded build that this file uses. */
interface ThreadedModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  PThread: { runningWorkers: Array<{ unref(): void }>; terminateAllThreads(): void };
  tfjs?: unknown;
}
interface FactoryConfig {
  locateFile(file: string, prefix: string): string;
  instantiateWasm(imports: WasmImports, receive: (instance: WasmInstance, module: WasmModule) => void): object;
  mainScriptUrlOrBlob?: string;
}
type WasmImports = { env: Record<string, unknown> } & Record<string, Record<string, unknown>>;
/** The slice of the WebAssembly JS API used here (the project's TypeScript lib has no DOM types). */
interface WasmInstance { readonly exports: unknown }
interface WasmModule { readonly kind?: never }
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: WasmImports): Promise<WasmInstance>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
type Factory = (config: FactoryConfig) => Promise<ThreadedModule>;

/** The worker shim: runs the package's pthread worker code with CommonJS `require` in scope. */
function workerShimSource(workerModulePath: string): string {
  return [
    "'use strict';",
    '// pthread worker for the threaded tfjs wasm build (written by mnist-speedrun lib/wasm/threads.ts)',
    // The package stores the worker as a template literal whose '\n' escapes became newlines.
    `const code = require(${JSON.stringify(workerModulePath)}).wasmWorkerContents.replace(/\\n/g, '\\\\n');`,
    "new Function('require', '__filename', code)(require, __filename);",
    '',
  ].join('\n');
}

/** This process's private folder for the worker shim (created on first use, removed at exit). */
let shimDir: string | null = null;

/**
 * A folder only this user can enter: a shared temp folder is writable by everyone, so a shim at a
 * predictable path there could be replaced by another user's code, which every pthread would run.
 */
function privateDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-speedrun-wasm-'));
  const stat = fs.lstatSync(dir);
  const ownedByUs = typeof process.getuid !== 'function' || stat.uid === process.getuid();
  if (!stat.isDirectory() || !ownedByUs || (process.platform !== 'win32' && (stat.mode & 0o077) !== 0)) {
    throw new WasmThreadsError(`${dir} is not a private folder (mode ${(stat.mode & 0o777).toString(8)}); set ${THREADS_ENV_VAR}=1`);
  }
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes the worker shim into this process's private folder (once) and returns its path. */
function ensureWorkerShim(workerModulePath: string): string {
  shimDir ??= privateDir();
  const shimPath = path.join(shimDir, 'pthread-worker.cjs');
  const source = workerShimSource(workerModulePath);
  if (!fs.existsSync(shimPath)) fs.writeFileSync(shimPath, source, { mode: 0o600, flag: 'wx' });
  return shimPath;
}

/** The threaded build's .wasm, compiled once per process (each backend instance instantiates it anew). */
let compiled: Promise<WasmModule> | null = null;

function compiledThreadedWasm(wasmDir: string): Promise<WasmModule> {
  compiled ??= wasmApi.compile(fs.readFileSync(path.join(wasmDir, THREADED_WASM)));
  return compiled;
}

type WorkerClass = new (filename: string | URL, options?: WorkerOptions) => NodeWorker;

/** `base` with its workers started without this process's --import/--require (tsx's loader among them). */
function plainWorkerClass(base: WorkerClass): WorkerClass {
  return class extends base {
    constructor(filename: string | URL, options?: WorkerOptions) {
      super(filename, { ...options, execArgv: [] });
    }
  };
}

/**
 * While the glue runs: it sets `global.Worker` to worker_threads' class and starts its pool of
 * workers with `new Worker(script)` at once. They run plain CommonJS, so they start without the
 * process's preloaded modules (tsx's loader cost each worker tenths of a second, and every
 * backend creation, after `tf.engine().reset()` too, starts a pool).
 */
function interceptGlueWorker(): void {
  let glueWorker: unknown;
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    enumerable: false,
    get: () => glueWorker,
    set: (value: unknown) => {
      glueWorker = typeof value === 'function' ? plainWorkerClass(value as WorkerClass) : value;
    },
  });
}

/** Instantiates the threaded build with a pool that accepts `threads` threads. */
async function instantiateThreaded(threads: number): Promise<ThreadedModule> {
  const imported = (await import('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js')) as unknown as {
    default?: Factory;
  };
  const factory = (imported.default ?? imported) as Factory;
  const workerBefore = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  const listenersBefore = {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
  let wasmDir = '';
  const config: FactoryConfig = {
    locateFile(file, prefix) {
      wasmDir = prefix;
      if (file.endsWith('.worker.js')) {
        // Read by each worker when it loads: the factory script, by path rather than by blob URL.
        config.mainScriptUrlOrBlob = path.join(prefix, THREADED_JS);
        return ensureWorkerShim(path.join(prefix, file));
      }
      return path.join(prefix, file);
    },
    instantiateWasm(imports, receive) {
      // The backend sizes its pool as half of this value; answering 2x lifts that cap for this instance only.
      imports.env.emscripten_num_logical_cores = () => 2 * threads;
      compiledThreadedWasm(wasmDir)
        .then(async (module) => receive(await wasmApi.instantiate(module, imports), module))
        .catch((error: unknown) => {
          compiled = null;
          throw new WasmThreadsError(`the threaded wasm build failed to instantiate (${String(error)}); set ${THREADS_ENV_VAR}=1`);
        });
      return {};
    },
  };
  try {
    interceptGlueWorker();
    return await factory(config);
  } finally {
    if (workerBefore) Object.defineProperty(globalThis, 'Worker', workerBefore);
    else delete (globalThis as { Worker?: unknown }).Worker;
    for (const listener of process.listeners('uncaughtException')) {
      if (!listenersBefore.uncaughtException.includes(listener)) process.removeListener('uncaughtException', listener);
    }
    for (const listener of process.listeners('unhandledRejection')) {
      if (!listenersBefore.unhandledRejection.includes(listener)) process.removeListener('unhandledRejection', listener);
    }
  }
}

/** The threaded build with the bridge tfjs-backend-wasm's own init() builds. */
async function threadedModule(threads: number): Promise<ThreadedModule> {
  const module = await instantiateThreaded(threads);
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/**
 * Makes 'wasm' in TensorFlow.js resolve to the threaded build (shared heap) with `poolThreads`
 * XNNPACK threads (default `threads`). Call before `tf.setBackend('wasm')`; an existing 'wasm'
 * backend instance is disposed.
 *
 * Each backend instance gets a module of its own: disposing a BackendWasm (tf.engine().reset(),
 * tf.removeBackend) ends its module's pthreads for good, so a backend created again on the same
 * module could not start its thread pool. The first module is made here, so that a failure to
 * make it reaches the caller; the factory makes the later ones, as the stock backend's does.
 */
export async function registerThreadedWasmBackend(threads: number, poolThreads: number = threads): Promise<void> {
  if (!Number.isInteger(poolThreads) || poolThreads < 1 || poolThreads > threads) {
    throw new WasmThreadsError(`XNNPACK's pool must have 1 to ${threads} threads, got ${poolThreads}`);
  }
  let first: ThreadedModule | null = await threadedModule(poolThreads);
  if (tf.findBackendFactory('wasm') !== null) tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      const module = first ?? (await threadedModule(poolThreads));
      first = null;
      setThreadsCount(poolThreads);
      const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
      // XNNPACK's pool threads run for the life of the backend: never let them hold the process open.
      for (const worker of module.PThread.runningWorkers) worker.unref();
      return backend;
    },
    WASM_BACKEND_PRIORITY,
  );
}

/**
 * XNNPACK's pool for `threads` threads: all of them, except that the tuned kernels' helper thread
 * (./native) takes one. On 2 cores the pool's worker, which spins for a while after each op before
 * it sleeps, otherwise competes with the helper for the second core while the native kernels run
 * both halves of a batch; measured on a 2-core machine, steps 8 and 9 in turns (3 rounds, seconds
 * per epoch): step 9 9.11 s with a 2-thread pool, 7.42 s with 1; step 8 13.3 s and 13.9 s, within the noise.
 */
export function xnnpackPoolThreads(threads: number, helperThread: boolean): number {
  return helperThread && threads > 1 ? threads - 1 : threads;
}

/** Threads XNNPACK actually runs with on the active wasm backend. */
export function activeWasmThreads(): number {
  return getThreadsCount();
}
