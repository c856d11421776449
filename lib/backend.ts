/**
 * Which TensorFlow.js backend runs: an explicit choice, or else the fastest one this machine can
 * load, in the order native GPU, WebGPU on a hardware adapter, native CPU, wasm, cpu. The report
 * always says what ran, on which device, and why each faster candidate was passed over; an
 * explicit choice that cannot load is an error with the install command, never a quiet fallback.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { activateWebGpu, findWebGpuAdapter, type WebGpuAdapterProbe } from './webgpu';
import { GPU_DEVICE_PATTERNS, gpuDeviceNodes } from './gpu-devices';
import { NATIVE_BUILDS, NativeBuildError, simdSetting } from './wasm/native-build';
import { setupWasm } from './wasm/setup';
import { threadsSetting } from './wasm/threads';
import { UsageError } from './errors';
import { projectRoot } from './project-root';
import { BACKEND, BACKEND_NAMES, readSetting, type BackendName } from './environment';

export { BACKEND_NAMES, type BackendName };
/** Environment variable read when no backend is passed in. */
export const BACKEND_ENV_VAR = BACKEND.name;

/** The candidates of automatic selection, fastest first. */
export type CandidateId = 'tensorflow-gpu' | 'webgpu' | 'tensorflow-cpu' | 'wasm' | 'cpu';
export const CANDIDATE_ORDER: readonly CandidateId[] = ['tensorflow-gpu', 'webgpu', 'tensorflow-cpu', 'wasm', 'cpu'];
export const CANDIDATE_LABELS: Record<CandidateId, string> = {
  'tensorflow-gpu': 'native GPU (@tensorflow/tfjs-node-gpu)',
  webgpu: 'WebGPU on a hardware adapter',
  'tensorflow-cpu': 'native CPU (@tensorflow/tfjs-node)',
  wasm: 'WebAssembly (@tensorflow/tfjs-backend-wasm)',
  cpu: 'plain JavaScript (@tensorflow/tfjs-backend-cpu)',
};

export interface BackendReport {
  /** TensorFlow.js backend name that ran: 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  name: string;
  /** For people: e.g. 'WebGPU (Dawn, software adapter: Mesa llvmpipe on OpenGL)'. */
  label: string;
  /** GPU or adapter name, or the CPU model and core count. */
  device: string;
  /** Faster candidates passed over, fastest first, each with the reason. */
  skipped: Array<{ candidate: CandidateId; reason: string }>;
  /** Worker threads, where the backend says. */
  threads?: number;
  /** What was asked for: 'auto' or an explicit name. */
  requested: BackendName;
}

/** A candidate that can run here; `activate` makes it the active backend. */
export interface UsableCandidate {
  usable: true;
  name: string;
  label: string;
  device: string;
  threads?: number;
  /** May refine the threads and the label once the backend is up (wasm knows them only then). */
  activate(): Promise<{ threads?: number; label?: string }>;
}
export type CandidateProbe = UsableCandidate | { usable: false; reason: string };

/** One probe per candidate; each may throw, which counts as 'failed to initialise'. */
export interface Probes {
  tensorflowGpu(): Promise<CandidateProbe>;
  webgpu(options: { allowSoftware: boolean }): Promise<CandidateProbe>;
  tensorflowCpu(): Promise<CandidateProbe>;
  wasm(): Promise<CandidateProbe>;
  cpu(): Promise<CandidateProbe>;
}

export interface BackendRequest {
  /** Explicit choice; else the env var MNIST_SPEEDRUN_BACKEND; else 'auto'. */
  name?: BackendName;
  /** Print the chosen backend and every skipped candidate's reason. */
  explain?: boolean;
  /** Replacements for the real probes (tests). */
  probes?: Partial<Probes>;
  /** Where the env var is read (default process.env). */
  env?: Record<string, string | undefined>;
  /** Where `explain` prints (default console.log). */
  log?: (line: string) => void;
}

/** A backend that was asked for and cannot run here (exit code 4), or an unknown name (2). */
export class BackendError extends Error {
  constructor(
    message: string,
    readonly exitCode: 2 | 4 = 4,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

/** Install hints, one line each, used in errors for explicit requests. */
export const INSTALL_HINTS: Record<Exclude<BackendName, 'auto'>, string> = {
  tensorflow:
    'needs @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (NVIDIA, CUDA 11.2 + cuDNN 8.1): npm install @tensorflow/tfjs-node',
  webgpu:
    'needs a GPU with a Vulkan, Metal or D3D12 driver (Linux: libvulkan1 and the vendor\'s Vulkan driver), or for the slow software adapter Mesa EGL and llvmpipe: apt-get install libegl1 libegl-dev libegl-mesa0 libgl1-mesa-dri',
  wasm: 'needs @tensorflow/tfjs-backend-wasm: npm install @tensorflow/tfjs-backend-wasm',
  cpu: 'needs @tensorflow/tfjs-backend-cpu: npm install @tensorflow/tfjs-backend-cpu',
};

/** Makes a backend active and says which, on what, and why faster ones were passed over. */
export async function useBackend(request: BackendRequest = {}): Promise<BackendReport> {
  const requested = resolveRequestedName(request.name, request.env ?? process.env);
  // settings are checked before any backend starts: a bad one is the user's to fix, not a skip
  threadsSetting(process.env);
  simdSetting(process.env);
  const probes: Probes = { ...realProbes, ...request.probes };
  const report = requested === 'auto' ? await selectAutomatically(probes) : await selectExplicitly(requested, probes);
  if (request.explain) for (const line of explainBackend(report)) (request.log ?? console.log)(line);
  return report;
}

/**
 * The explicit name, else MNIST_SPEEDRUN_BACKEND (lib/environment.ts's rule), else 'auto'. An
 * unknown name is a usage error (exit 2), never a reason to pick another backend.
 */
export function resolveRequestedName(
  name: string | undefined,
  env: Record<string, string | undefined>,
): BackendName {
  if (name === undefined) return readSetting(BACKEND, env) ?? 'auto';
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new BackendError(`unknown backend '${name}': use one of ${BACKEND_NAMES.join(', ')}`, 2);
  }
  return name as BackendName;
}

/** One line for logs and result rows: `webgpu: WebGPU (…) on llvmpipe (…)`. */
export function describeBackend(report: BackendReport): string {
  const threads = report.threads === undefined ? '' : `, ${report.threads} thread${report.threads === 1 ? '' : 's'}`;
  const how = report.requested === 'auto' ? 'chosen automatically' : 'requested';
  return `${report.name}: ${report.label} on ${report.device}${threads} (${how})`;
}

/** describeBackend's line followed by one line per skipped candidate. */
export function explainBackend(report: BackendReport): string[] {
  return [
    describeBackend(report),
    ...report.skipped.map((s) => `  skipped ${CANDIDATE_LABELS[s.candidate]}: ${s.reason}`),
  ];
}

// ---------------------------------------------------------------------------------------------
// Selection

type Attempt = { ok: true; report: Omit<BackendReport, 'skipped' | 'requested'> } | { ok: false; reason: string };

/**
 * Only "this backend cannot run here" is a reason to try the next one; a usage error, or a kernel
 * build asked for by name that this runtime cannot run, is raised.
 */
function unavailable(error: unknown): Attempt {
  if (error instanceof UsageError || error instanceof NativeBuildError) throw error;
  return { ok: false, reason: `failed to initialise: ${messageOf(error)}` };
}

async function attempt(probe: () => Promise<CandidateProbe>): Promise<Attempt> {
  let found: CandidateProbe;
  try {
    found = await probe();
  } catch (error) {
    return unavailable(error);
  }
  // `=== false` rather than `!`: the notebooks' non-strict compiler narrows only on equality
  if (found.usable === false) return { ok: false, reason: found.reason };
  try {
    const { threads, label } = await found.activate();
    const report = { name: found.name, label: label ?? found.label, device: found.device, threads: threads ?? found.threads };
    if (report.threads === undefined) delete report.threads;
    return { ok: true, report };
  } catch (error) {
    return unavailable(error);
  }
}

function probeFor(id: CandidateId, probes: Probes, allowSoftwareGpu: boolean): () => Promise<CandidateProbe> {
  switch (id) {
    case 'tensorflow-gpu':
      return () => probes.tensorflowGpu();
    case 'webgpu':
      return () => probes.webgpu({ allowSoftware: allowSoftwareGpu });
    case 'tensorflow-cpu':
      return () => probes.tensorflowCpu();
    case 'wasm':
      return () => probes.wasm();
    case 'cpu':
      return () => probes.cpu();
  }
}

async function selectAutomatically(probes: Probes): Promise<BackendReport> {
  const skipped: BackendReport['skipped'] = [];
  for (const candidate of CANDIDATE_ORDER) {
    // a software adapter is slower than every CPU backend, so automatic selection never takes it
    const result = await attempt(probeFor(candidate, probes, false));
    if (result.ok === true) return { ...result.report, skipped, requested: 'auto' };
    skipped.push({ candidate, reason: result.reason });
  }
  const reasons = skipped.map((s) => `${s.candidate}: ${s.reason}`).join('; ');
  throw new BackendError(`no TensorFlow.js backend could start (${reasons}); reinstall with npm ci`);
}

// An explicit name may cover two candidates: 'tensorflow' is the GPU build, else a CPU one.
const EXPLICIT_CANDIDATES: Record<Exclude<BackendName, 'auto'>, CandidateId[]> = {
  tensorflow: ['tensorflow-gpu', 'tensorflow-cpu'],
  webgpu: ['webgpu'],
  wasm: ['wasm'],
  cpu: ['cpu'],
};

async function selectExplicitly(name: Exclude<BackendName, 'auto'>, probes: Probes): Promise<BackendReport> {
  const skipped: BackendReport['skipped'] = [];
  for (const candidate of EXPLICIT_CANDIDATES[name]) {
    // asked for by name, so a software adapter is acceptable: the label says what it is
    const result = await attempt(probeFor(candidate, probes, true));
    if (result.ok === true) return { ...result.report, skipped, requested: name };
    skipped.push({ candidate, reason: result.reason });
  }
  const reasons = skipped.map((s) => (skipped.length > 1 ? `${s.candidate}: ${s.reason}` : s.reason)).join('; ');
  throw new BackendError(`backend '${name}' ${INSTALL_HINTS[name]} (here: ${reasons})`);
}

// ---------------------------------------------------------------------------------------------
// Real probes

// resolved from the project root, not import.meta: tslab compiles lib files to CommonJS, where
// import.meta does not exist
const requireHere = createRequire(join(projectRoot(), 'package.json'));

export type PackageState =
  | { state: 'installed'; dir: string }
  | { state: 'missing' }
  | { state: 'impostor'; actualName: string };

/**
 * Whether `packageName` is really installed. A folder of that name can hold another package: npm
 * aliases and stand-ins put something else under the native package's name (this project maps
 * `@tensorflow/tfjs-node`, which danfojs-node loads, to its own packages/tfjs-slim), so the name
 * inside package.json is checked, not just that resolution succeeds.
 */
export function inspectPackage(packageName: string, resolveFrom?: string): PackageState {
  const resolver = resolveFrom === undefined ? requireHere : createRequire(resolveFrom);
  let manifestPath: string;
  try {
    manifestPath = resolver.resolve(`${packageName}/package.json`);
  } catch {
    return { state: 'missing' };
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name?: string };
  if (manifest.name !== packageName) return { state: 'impostor', actualName: manifest.name ?? 'unnamed' };
  return { state: 'installed', dir: dirname(manifestPath) };
}

function notInstalledReason(packageName: string, state: PackageState): string {
  if (state.state === 'impostor') {
    return `not installed (node_modules/${packageName} holds ${state.actualName} under that name: a stand-in, not the native backend)`;
  }
  return `not installed (npm install ${packageName})`;
}

/** CUDA 11.2 + cuDNN 8.1 as libtensorflow 2.9 (in tfjs-node-gpu 4.22) loads them, and the driver. */
export const CUDA_LIBRARIES = ['libcuda.so.1', 'libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8'];

/** The CUDA libraries the dynamic loader would not find, judged by LD_LIBRARY_PATH, CUDA's usual
 * folders and the ldconfig cache. */
export function missingCudaLibraries(isVisible: (library: string) => boolean = libraryVisible): string[] {
  return CUDA_LIBRARIES.filter((library) => !isVisible(library));
}

let ldconfigCache: string | null = null;

function libraryVisible(library: string): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/local/cuda/lib64',
    '/usr/local/cuda/targets/x86_64-linux/lib',
  ];
  if (dirs.some((dir) => existsSync(join(dir, library)))) return true;
  if (ldconfigCache === null) {
    const run = spawnSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8', timeout: 5000 });
    ldconfigCache = run.status === 0 ? run.stdout : '';
  }
  return ldconfigCache.includes(`${library} `);
}

/** NVIDIA GPU names from the kernel driver, e.g. ['NVIDIA H200']; empty without the driver. */
export function nvidiaGpuNames(driverDir = '/proc/driver/nvidia/gpus'): string[] {
  if (!existsSync(driverDir)) return [];
  return readdirSync(driverDir).flatMap((bus) => {
    const information = readFileSync(join(driverDir, bus, 'information'), 'utf8');
    const model = /^Model:\s*(.+)$/m.exec(information);
    return model ? [model[1].trim()] : [];
  });
}

/** 'Intel(R) Xeon(R) … , 2 cores' from os.cpus(). */
export function cpuDescription(): string {
  const cores = cpus();
  return `${cores[0]?.model.trim() ?? 'unknown CPU'}, ${cores.length} core${cores.length === 1 ? '' : 's'}`;
}

// Which native package registered 'tensorflow' in this process: two cannot both load.
let nativeLoaded: string | null = null;

/**
 * Loads a native package and confirms it by the backend it registers, never by the import
 * succeeding: an impostor package imports fine and registers nothing.
 */
function loadNativePackage(packageName: string): void {
  if (nativeLoaded !== null && nativeLoaded !== packageName) {
    throw new Error(`${nativeLoaded} is already loaded in this process; restart to use ${packageName}`);
  }
  requireHere(packageName);
  nativeLoaded = packageName;
  if (!tf.findBackendFactory('tensorflow')) {
    throw new Error(`${packageName} loaded but registered no 'tensorflow' backend`);
  }
}

async function activateTensorflow(): Promise<{ threads?: number }> {
  if (!(await tf.setBackend('tensorflow'))) throw new Error("the 'tensorflow' backend did not initialise");
  await tf.ready();
  return {};
}

async function probeTensorflowGpu(): Promise<CandidateProbe> {
  const packageName = '@tensorflow/tfjs-node-gpu';
  const state = inspectPackage(packageName);
  if (state.state !== 'installed') return { usable: false, reason: notInstalledReason(packageName, state) };
  const missing = missingCudaLibraries();
  if (missing.length > 0) return { usable: false, reason: `no CUDA libraries (${missing.join(', ')} not found)` };
  loadNativePackage(packageName);
  const gpus = nvidiaGpuNames();
  return {
    usable: true,
    name: 'tensorflow',
    label: 'TensorFlow native, NVIDIA GPU (@tensorflow/tfjs-node-gpu, CUDA)',
    device: gpus.length > 0 ? gpus.join(' + ') : 'NVIDIA GPU',
    activate: activateTensorflow,
  };
}

async function probeTensorflowCpu(): Promise<CandidateProbe> {
  const cpuPackage = '@tensorflow/tfjs-node';
  const gpuPackage = '@tensorflow/tfjs-node-gpu';
  const cpuState = inspectPackage(cpuPackage);
  // Without CUDA the GPU build runs on the CPU, so it serves when it is the one installed.
  const packageName =
    cpuState.state === 'installed' ? cpuPackage : inspectPackage(gpuPackage).state === 'installed' ? gpuPackage : null;
  if (packageName === null) return { usable: false, reason: notInstalledReason(cpuPackage, cpuState) };
  loadNativePackage(packageName);
  return {
    usable: true,
    name: 'tensorflow',
    label: `TensorFlow native, CPU (${packageName})`,
    device: cpuDescription(),
    activate: activateTensorflow,
  };
}

/**
 * The WebGPU probe on the adapter `find` reports (Dawn's, unless a caller passes another): a
 * software adapter is refused unless `allowSoftware` (an explicit request) says otherwise. Without
 * `allowSoftware` (automatic selection) Dawn is not even loaded on a Linux machine with no GPU
 * device node (`gpuDevices` returns an empty list): it would print the Vulkan loader's warnings and
 * could only find the software adapter that automatic selection refuses anyway.
 */
export function webgpuProbe(
  find: (options: { allowSoftware: boolean }) => Promise<WebGpuAdapterProbe> = findWebGpuAdapter,
  gpuDevices: () => string[] | null = () => gpuDeviceNodes(),
): Probes['webgpu'] {
  return async (options) => {
    if (!options.allowSoftware && gpuDevices()?.length === 0) return { usable: false, reason: NO_GPU_DEVICE_REASON };
    return probeWebGpu(await find(options), options);
  };
}

/** Why automatic selection passes WebGPU over on a Linux machine without a GPU. */
export const NO_GPU_DEVICE_REASON = `no GPU device (${GPU_DEVICE_PATTERNS}), so Dawn was not loaded; --backend webgpu tries Mesa's software adapter`;

async function probeWebGpu(found: WebGpuAdapterProbe, options: { allowSoftware: boolean }): Promise<CandidateProbe> {
  if (found.found === false) return { usable: false, reason: found.reason };
  const adapter = found.summary;
  if (adapter.software && !options.allowSoftware) {
    return {
      usable: false,
      reason: `software adapter only (${adapter.name}: correct but slower than the CPU backends; ask for it with --backend webgpu)`,
    };
  }
  const api = adapter.dawnBackend === 'opengl' ? 'OpenGL' : 'Vulkan/Metal/D3D12';
  return {
    usable: true,
    name: 'webgpu',
    label: adapter.software ? `WebGPU (Dawn on ${api}, software adapter: slow)` : `WebGPU (Dawn on ${api})`,
    device: adapter.description ? `${adapter.name} (${adapter.description})` : adapter.name,
    activate: async () => {
      await activateWebGpu(found);
      return {};
    },
  };
}

async function probeWasm(): Promise<CandidateProbe> {
  return {
    usable: true,
    name: 'wasm',
    label: 'WebAssembly (XNNPACK + native kernels)',
    device: cpuDescription(),
    activate: async () => {
      // the label names the build of the project's kernels that was loaded: relaxed SIMD (fused
      // multiply-add) where the runtime has it, plain SIMD otherwise
      const { threads, nativeBuild } = await setupWasm();
      return { threads, label: wasmLabel(nativeBuild === null ? null : NATIVE_BUILDS[nativeBuild].label) };
    },
  };
}

/** 'WebAssembly (XNNPACK + native kernels: relaxed SIMD, fused multiply-add)'. */
function wasmLabel(nativeBuild: string | null): string {
  return nativeBuild === null ? 'WebAssembly (XNNPACK)' : `WebAssembly (XNNPACK + native kernels: ${nativeBuild})`;
}

async function probeCpu(): Promise<CandidateProbe> {
  await import('@tensorflow/tfjs-backend-cpu');
  return {
    usable: true,
    name: 'cpu',
    label: 'plain JavaScript (tfjs-backend-cpu)',
    device: cpuDescription(),
    threads: 1,
    activate: async () => {
      // its first-use banner recommends tfjs-node; the report's skip reasons already say why not
      tf.env().set('PROD', true);
      if (!(await tf.setBackend('cpu'))) throw new Error("the 'cpu' backend did not initialise");
      await tf.ready();
      return {};
    },
  };
}

/** The probes used unless a request replaces some. */
export const realProbes: Probes = {
  tensorflowGpu: probeTensorflowGpu,
  webgpu: webgpuProbe(),
  tensorflowCpu: probeTensorflowCpu,
  wasm: probeWasm,
  cpu: probeCpu,
};

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}
