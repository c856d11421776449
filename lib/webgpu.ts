/**
 * WebGPU in Node: Dawn (the `webgpu` package, its binary ships inside it) under TensorFlow.js's
 * webgpu backend. On a real GPU Dawn drives Vulkan, Metal or D3D12 with any vendor's driver; on a
 * machine without one it can run on Mesa's software OpenGL (llvmpipe), which gives correct numbers
 * but is slow, so every adapter found here says whether it is software and the caller decides.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend as WebGpuBackendClass } from '@tensorflow/tfjs-backend-webgpu';

/** What Dawn reports about the adapter a run would use. */
export interface WebGpuAdapterSummary {
  /** Adapter name, e.g. 'NVIDIA GeForce RTX 4090' or 'llvmpipe-llvm-15-0-6-256-bits-'. */
  name: string;
  /** Driver line, e.g. 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6'. */
  description: string;
  /** Dawn backend it runs on: 'default' (Vulkan, Metal or D3D12) or 'opengl'. */
  dawnBackend: DawnBackend;
  /** A CPU rasteriser pretending to be a GPU: correct but much slower than the cpu backends. */
  software: boolean;
}

export type DawnBackend = 'default' | 'opengl';

/** An adapter that answered, with what is needed to open a device on it later. */
export interface WebGpuAdapterFound {
  found: true;
  summary: WebGpuAdapterSummary;
  gpu: GPU;
  adapterOptions: GPURequestAdapterOptions;
}

export type WebGpuAdapterProbe = WebGpuAdapterFound | { found: false; reason: string };

interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

// Names Mesa, SwiftShader and Dawn use for CPU implementations of a GPU API.
const SOFTWARE_ADAPTER = /llvmpipe|softpipe|lavapipe|swiftshader|software/i;

/** True when the adapter is a CPU rasteriser, judged by its flag or its driver's name. */
export function isSoftwareAdapter(info: {
  device: string;
  description: string;
  isFallbackAdapter?: boolean;
}): boolean {
  return info.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(`${info.device} ${info.description}`);
}

async function loadDawn(): Promise<DawnModule> {
  // Mesa's EGL needs a platform without a display server; an explicit setting by the user wins.
  process.env.EGL_PLATFORM ??= 'surfaceless';
  return (await import('webgpu')) as unknown as DawnModule;
}

let dawn: Promise<DawnModule> | null = null;
// One GPU instance per Dawn backend for the whole process: each create() starts a new Dawn instance.
const instances = new Map<DawnBackend, GPU>();

function gpuFor(module: DawnModule, backend: DawnBackend): GPU {
  let gpu = instances.get(backend);
  if (!gpu) {
    gpu = module.create(backend === 'opengl' ? ['backend=opengl'] : []);
    instances.set(backend, gpu);
  }
  return gpu;
}

async function tryAdapter(
  module: DawnModule,
  backend: DawnBackend,
  adapterOptions: GPURequestAdapterOptions,
): Promise<WebGpuAdapterFound | null> {
  const gpu = gpuFor(module, backend);
  const adapter = await gpu.requestAdapter(adapterOptions);
  if (!adapter) return null;
  return { found: true, summary: summarizeAdapter(adapter.info, backend), gpu, adapterOptions };
}

/** What a run needs to know about an adapter, from the info Dawn reports for it. */
export function summarizeAdapter(
  info: { device: string; description: string; vendor: string; isFallbackAdapter?: boolean },
  backend: DawnBackend,
): WebGpuAdapterSummary {
  return {
    name: info.device || info.description || info.vendor || 'unnamed adapter',
    description: info.description,
    dawnBackend: backend,
    software: isSoftwareAdapter(info),
  };
}

/**
 * Looks for a WebGPU adapter: first a hardware one through Dawn's native backends, then, unless
 * `allowSoftware` is false, Mesa's software OpenGL. Dawn rejects Mesa's lavapipe Vulkan, and its
 * OpenGL backend only offers the 'compatibility' feature level, hence the second request. Without
 * `allowSoftware` the OpenGL driver is never started, so Mesa writes no shader cache for a probe
 * whose answer would be refused anyway.
 */
export async function findWebGpuAdapter(options: { allowSoftware?: boolean } = {}): Promise<WebGpuAdapterProbe> {
  let module: DawnModule;
  try {
    dawn ??= loadDawn();
    module = await dawn;
  } catch (error) {
    dawn = null;
    return { found: false, reason: `the webgpu package did not load: ${messageOf(error)}` };
  }
  try {
    const native = await tryAdapter(module, 'default', { powerPreference: 'high-performance' });
    if (native && !native.summary.software) return native;
    if (options.allowSoftware === false) return native ?? NO_HARDWARE_ADAPTER;
    const opengl = await tryAdapter(module, 'opengl', {
      powerPreference: 'high-performance',
      featureLevel: 'compatibility',
    });
    if (opengl) return opengl;
    if (native) return native;
  } catch (error) {
    return { found: false, reason: `requesting an adapter failed: ${messageOf(error)}` };
  }
  return {
    found: false,
    reason:
      'no adapter: no GPU with a Vulkan, Metal or D3D12 driver, and no Mesa EGL/OpenGL (Dawn loads libEGL.so, from libegl-dev on Debian)',
  };
}

const NO_HARDWARE_ADAPTER: WebGpuAdapterProbe = {
  found: false,
  reason: 'no hardware adapter: no GPU with a Vulkan, Metal or D3D12 driver (--backend webgpu also tries Mesa\'s software OpenGL)',
};

/**
 * Registers TensorFlow.js's 'webgpu' backend on the adapter found and makes it the active one.
 * The stock registration asks for an adapter without a feature level, which Dawn's OpenGL backend
 * never grants, so the factory is replaced by one that asks exactly as the probe did.
 */
export async function activateWebGpu(found: WebGpuAdapterFound): Promise<void> {
  if (registeredOn !== found.gpu) await registerWebGpuBackend(found);
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error(`the webgpu backend did not initialise on ${found.summary.name}`);
  await tf.ready();
}

// The Dawn instance our 'webgpu' factory serves: activating again on it keeps the live backend
// (re-registering would dispose it, and every tensor on it).
let registeredOn: GPU | null = null;

async function registerWebGpuBackend(found: WebGpuAdapterFound): Promise<void> {
  const module = await (dawn ?? loadDawn());
  installGlobals(module, found.gpu);
  const WebGPUBackend = await loadWebGpuBackendClass();
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  registeredOn = found.gpu;
  tf.registerBackend('webgpu', async () => {
    // An adapter hands out one device, so a re-created backend asks for a fresh adapter.
    const adapter = await found.gpu.requestAdapter(found.adapterOptions);
    if (!adapter) throw new Error('the WebGPU adapter disappeared after it was probed');
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      // the same limits the stock factory raises to the adapter's maximum
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new WebGPUBackend(device, adapter.info);
  });
}

// The tfjs webgpu code reads GPUBufferUsage and friends as globals and navigator.gpu to decide
// whether WebGPU exists, as in a browser; Node 20 has no navigator at all.
function installGlobals(module: DawnModule, gpu: GPU): void {
  Object.assign(globalThis, module.globals);
  const holder = globalThis as { navigator?: object };
  if (holder.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  Object.defineProperty(holder.navigator, 'gpu', { value: gpu, configurable: true });
}

async function loadWebGpuBackendClass(): Promise<typeof WebGpuBackendClass> {
  const imported = (await import('@tensorflow/tfjs-backend-webgpu')) as {
    WebGPUBackend?: typeof WebGpuBackendClass;
    default?: { WebGPUBackend?: typeof WebGpuBackendClass };
  };
  const found = imported.WebGPUBackend ?? imported.default?.WebGPUBackend;
  if (!found) throw new Error('@tensorflow/tfjs-backend-webgpu does not export WebGPUBackend');
  return found;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
