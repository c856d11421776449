/**
 * Where a training step's time goes: every kernel registered for a backend is wrapped with a wall
 * clock while the clock runs (wasm kernels are synchronous, so the wall time of the call is the
 * kernel's; with the native kernels' helper thread it is what the calling thread waits), and the
 * totals are kept per kernel name. Nested calls (a kernel calling another through the engine) count
 * in both. The wrapping costs a little per call, so step times are measured with the clock off.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';

/** One kernel's share of the clocked steps. */
export interface KernelTime {
  kernel: string;
  /** Milliseconds per step, over the steps clocked. */
  msPerStep: number;
  /** Calls per step. */
  callsPerStep: number;
}

export interface KernelClock {
  /** Clock the kernels called inside `run`. */
  measure<T>(run: () => Promise<T>): Promise<T>;
  /** Per kernel name, largest first, divided by `steps`. */
  perStep(steps: number): KernelTime[];
  /** Puts the original kernels back. */
  restore(): void;
}

/** Wraps every kernel of `backendName`, keyed by `label` (default: the kernel's name). */
export function startKernelClock(
  backendName: string,
  label: (config: KernelConfig, inputs: tf.NamedTensorInfoMap) => string = (config) => config.kernelName,
): KernelClock {
  const totals = new Map<string, { ms: number; calls: number }>();
  const originals = tf.getKernelsForBackend(backendName) as KernelConfig[];
  let clocking = false;
  for (const config of originals) {
    const inner = config.kernelFunc;
    tf.unregisterKernel(config.kernelName, backendName);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        if (!clocking) return inner(args);
        const started = performance.now();
        const out = inner(args);
        const key = label(config, args.inputs);
        const entry = totals.get(key) ?? { ms: 0, calls: 0 };
        entry.ms += performance.now() - started;
        entry.calls += 1;
        totals.set(key, entry);
        return out;
      },
    });
  }
  return {
    async measure(run) {
      clocking = true;
      try {
        return await run();
      } finally {
        clocking = false;
      }
    },
    perStep(steps) {
      return [...totals.entries()]
        .map(([kernel, { ms, calls }]) => ({ kernel, msPerStep: ms / steps, callsPerStep: calls / steps }))
        .sort((a, b) => b.msPerStep - a.msPerStep);
    },
    restore() {
      for (const config of originals) {
        tf.unregisterKernel(config.kernelName, backendName);
        tf.registerKernel(config);
      }
    },
  };
}
