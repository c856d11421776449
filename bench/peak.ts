/**
 * This machine's wasm f32x4 peak, as GFLOP/s: bench/peak-module.ts's loop of independent
 * multiply-add chains, plain (mul then add) and fused (relaxed_madd, where the runtime runs relaxed
 * SIMD), on 1 thread and on several at once (one worker_thread each, started together). The best
 * of a few rounds is kept: the peak is what the machine can do, not what it did under load.
 *
 *   tsx bench/peak.ts '{"threads":[1,2]}'   prints one JSON line, a PeakResult
 *
 * bench/bench.ts runs it once per Node runtime (with --experimental-wasm-relaxed-simd on Node 20).
 */
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runtimeHasRelaxedSimd } from '../lib/wasm/native-build';
import { FLOPS_PER_ITERATION, peakModule, type PeakKind } from './peak-module';

/** The slice of the WebAssembly JS API used here (the project's TypeScript lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** GFLOP/s by thread count. */
export type PeakByThreads = Record<number, number>;

export interface PeakResult {
  node: string;
  plain: PeakByThreads;
  /** null where the runtime runs no relaxed SIMD. */
  fused: PeakByThreads | null;
}

export interface PeakOptions {
  threads: number[];
  /** Wall time of one timed round, seconds. */
  roundSeconds?: number;
  rounds?: number;
}

// Plain JavaScript, run by each worker: compile, warm up (so that the optimising tier has
// replaced the baseline code), say ready, wait for the start, then time `calls` calls.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { bytes, iterations, calls, control } = workerData;
const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.run;
const deadline = performance.now() + 300;
while (performance.now() < deadline) run(iterations);
const words = new Int32Array(control);
Atomics.add(words, 0, 1);
Atomics.notify(words, 0);
Atomics.wait(words, 1, 0);
const started = performance.now();
for (let i = 0; i < calls; i++) run(iterations);
parentPort.postMessage(performance.now() - started);
`;

/** Iterations per call so that one call takes about `ms` on this thread (after warm-up). */
function calibrate(bytes: Uint8Array, ms: number): number {
  const run = new wasmApi.Instance(new wasmApi.Module(bytes)).exports['run'] as (n: number) => number;
  let iterations = 10_000;
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) run(iterations);
  for (;;) {
    const started = performance.now();
    run(iterations);
    const elapsed = performance.now() - started;
    if (elapsed >= ms || iterations >= 2 ** 30) return iterations;
    iterations = Math.min(2 ** 30, Math.ceil(iterations * Math.max(2, (1.2 * ms) / Math.max(elapsed, 0.01))));
  }
}

/** One round on `threads` workers started together: GFLOP/s of all of them over the round's wall time. */
async function round(bytes: Uint8Array, threads: number, iterations: number, calls: number): Promise<number> {
  const control = new SharedArrayBuffer(8);
  const words = new Int32Array(control);
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { bytes, iterations, calls, control } }));
  try {
    const finished = workers.map((worker) => new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }));
    while (Atomics.load(words, 0) < threads) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = performance.now();
    Atomics.store(words, 1, 1);
    Atomics.notify(words, 1);
    await Promise.all(finished);
    const seconds = (performance.now() - started) / 1000;
    return (threads * calls * iterations * FLOPS_PER_ITERATION) / seconds / 1e9;
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Peak GFLOP/s of one kind of multiply-add, by thread count. */
export async function measurePeak(kind: PeakKind, options: PeakOptions): Promise<PeakByThreads> {
  const bytes = peakModule(kind);
  const roundSeconds = options.roundSeconds ?? 0.5;
  const callMs = Math.min(50, (roundSeconds * 1000) / 4);
  const iterations = calibrate(bytes, callMs);
  const calls = Math.max(1, Math.round((roundSeconds * 1000) / callMs));
  const result: PeakByThreads = {};
  for (const threads of options.threads) {
    let best = 0;
    for (let r = 0; r < (options.rounds ?? 3); r++) best = Math.max(best, await round(bytes, threads, iterations, calls));
    result[threads] = best;
  }
  return result;
}

/** Both kinds; fused only where this runtime runs relaxed SIMD. */
export async function measurePeaks(options: PeakOptions): Promise<PeakResult> {
  return {
    node: process.version,
    plain: await measurePeak('plain', options),
    fused: runtimeHasRelaxedSimd() ? await measurePeak('fused', options) : null,
  };
}

// run as a script (bench/bench.ts spawns it); importing it, as the tests do, runs nothing
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = JSON.parse(process.argv[2] ?? '{"threads":[1]}') as PeakOptions;
  console.log(JSON.stringify(await measurePeaks(options)));
}
