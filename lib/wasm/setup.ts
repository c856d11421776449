/**
 * Entry point of the wasm engine: makes 'wasm' the active TensorFlow.js backend, ready to train.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

export interface WasmSetupOptions {
  /** Worker threads for XNNPACK; 'auto' uses every core. */
  threads?: number | 'auto';
  /** Register the project's training kernels (true unless benchmarking the stock backend). */
  tunedKernels?: boolean;
}

export interface WasmSetupReport {
  threads: number;
  /** Names of the kernels this project registered for the wasm backend. */
  kernels: string[];
}

/** Activates the wasm backend. */
export async function setupWasm(_options: WasmSetupOptions = {}): Promise<WasmSetupReport> {
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('the wasm backend failed to initialise');
  await tf.ready();
  return { threads: 1, kernels: [] };
}
