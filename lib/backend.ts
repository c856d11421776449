/**
 * Which TensorFlow.js backend runs: an explicit choice, or else the fastest one this machine can
 * start. Automatic selection does not assume that a GPU is faster: where more than one candidate
 * (native GPU, WebGPU on a hardware adapter, native CPU, wasm) can start, it times a few training
 * steps of the net on each, in a child process per candidate so that their drivers' messages and
 * caches stay out of the run, keeps the fastest and remembers it per machine
 * (lib/backend-choice.ts). The report always says what ran, on which device, how it was chosen and
 * why the other candidates were passed over; an explicit choice that cannot load is an error with
 * the install command, never a quiet fallback.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, homedir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import {
  chooseFastest,
  choiceFile,
  choiceKey,
  formatTimings,
  readChoice,
  writeChoice,
  type CandidateTiming,
  type ChoiceKeyParts,
} from './backend-choice';
import { engineTag, stockEngineId } from './engine-id';
import { machineKey, describeMachine } from './machine';
import { netLabel } from './nets';
import { recipeForStep, type Recipe } from './recipes';
import { activateWebGpu, findWebGpuAdapter, type WebGpuAdapterProbe } from './webgpu';
import { GPU_DEVICE_PATTERNS, gpuDeviceNodes } from './gpu-devices';
import { NATIVE_BUILDS, NativeBuildError, simdSetting } from './wasm/native-build';
import { setupWasm } from './wasm/setup';
import { threadsSetting } from './wasm/threads';
import { UsageError } from './errors';
import { projectRoot } from './project-root';
import { BACKEND, BACKEND_NAMES, RETIME, readSetting, type BackendName } from './environment';

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
  /** Which build of the engine runs (lib/engine-id.ts); records carry it. */
  engine?: string;
  /** What was asked for: 'auto' or an explicit name. */
  requested: BackendName;
  /** How automatic selection chose (absent for an explicit request). */
  choice?: BackendChoice;
}

/**
 * How automatic selection chose: the only candidate that could start; the fastest of those timed
 * now; or the fastest of those timed before, as remembered for this machine.
 */
export type BackendChoice =
  | { how: 'only'; why: string }
  | {
      how: 'timed' | 'remembered';
      timings: Array<CandidateTiming<CandidateId>>;
      /** ISO time of the timing. */
      timedAt: string;
      /** The file the choice is remembered in, or null when it could not be written. */
      file: string | null;
    };

/** The net whose training steps are timed: the recipe's net at its batch size, with its optimizer. */
export type TimedNet = Pick<Recipe, 'net' | 'batchSize' | 'optimizer'>;

/** A candidate that can run here; `activate` makes it the active backend. */
export interface UsableCandidate {
  usable: true;
  name: string;
  label: string;
  device: string;
  threads?: number;
  /**
   * May refine the threads, the label and the device once the backend is up (wasm knows its
   * threads only then, WebGPU its adapter).
   */
  activate(): Promise<{ threads?: number; label?: string; device?: string; engine?: string }>;
}
export type CandidateProbe = UsableCandidate | { usable: false; reason: string };

/** One probe per candidate; each may throw, which counts as 'failed to initialise'. */
export interface Probes {
  tensorflowGpu(): Promise<CandidateProbe>;
  webgpu(options: { allowSoftware: boolean }): Promise<CandidateProbe>;
  tensorflowCpu(): Promise<CandidateProbe>;
  wasm(): Promise<CandidateProbe>;
  cpu(): Promise<CandidateProbe>;
  /**
   * Milliseconds per training step of `net` on `candidate`, or why it could not be timed. The real
   * one starts the candidate in a child process (cli/backend-probe.ts), so a loser's driver never
   * loads here.
   */
  time(candidate: CandidateId, net: TimedNet): Promise<CandidateTiming<CandidateId>>;
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
  /**
   * The net automatic selection times (default: step 8's). The CLI passes the recipe it will
   * train, so the choice is the fastest for that net and batch size.
   */
  net?: TimedNet;
  /**
   * Time the candidates again instead of reusing the remembered choice (default: the variable
   * MNIST_SPEEDRUN_RETIME; `explain` re-times too, to print every candidate's time).
   */
  retime?: boolean;
  /** Where one-line notes go (a choice file that cannot be read or written); default stderr. */
  note?: (line: string) => void;
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
  const env = request.env ?? process.env;
  const requested = resolveRequestedName(request.name, env);
  // settings are checked before any backend starts: a bad one is the user's to fix, not a skip
  threadsSetting(process.env);
  simdSetting(process.env);
  const probes: Probes = { ...realProbes, ...request.probes };
  const report =
    requested === 'auto'
      ? await selectAutomatically(probes, {
          net: request.net ?? recipeForStep(8),
          retime: request.explain === true || request.retime === true || (request.retime === undefined && (readSetting(RETIME, env) ?? false)),
          file: choiceFile(env),
          note: request.note ?? ((line) => process.stderr.write(line + '\n')),
        })
      : await selectExplicitly(requested, probes);
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

/**
 * One line for logs: `wasm: WebAssembly (…) on AMD EPYC …, 2 threads (chosen automatically: the
 * only candidate here: no GPU device, tfjs-node not installed)`, or `(requested)`.
 */
export function describeBackend(report: BackendReport): string {
  const threads = report.threads === undefined ? '' : `, ${report.threads} thread${report.threads === 1 ? '' : 's'}`;
  const how = report.requested !== 'auto' ? 'requested' : report.choice === undefined ? 'chosen automatically' : `chosen automatically: ${describeChoice(report.choice)}`;
  return `${report.name}: ${report.label} on ${report.device}${threads} (${how})`;
}

/**
 * 'the only candidate here: no GPU device, tfjs-node not installed', or 'fastest of wasm 45
 * ms/step, webgpu 120 ms/step; timed 2026-12-01, remembered in ~/.cache/mnist-speedrun/backend-choice.json'.
 */
export function describeChoice(choice: BackendChoice, home: string = homedir()): string {
  if (choice.how === 'only') return `the only candidate here${choice.why === '' ? '' : `: ${choice.why}`}`;
  const where = choice.file === null ? 'not remembered' : `remembered in ${tildePath(choice.file, home)}`;
  const when = `timed ${choice.timedAt.slice(0, 10)}`;
  return `fastest of ${formatTimings(choice.timings)}; ${when}, ${where}`;
}

/** `path` with the home folder written as ~. */
function tildePath(path: string, home: string): string {
  return home !== '' && path.startsWith(home + sep) ? `~${path.slice(home.length)}` : path;
}

/** describeBackend's line, the engine's, then one line per candidate timed and one per skipped candidate. */
export function explainBackend(report: BackendReport): string[] {
  const choice = report.choice;
  const timings = choice !== undefined && choice.how !== 'only' ? choice.timings : [];
  return [
    describeBackend(report),
    ...(report.engine === undefined ? [] : [`  engine ${engineTag(report.engine)}: ${report.engine}`]),
    ...timings.map((t) => `  timed ${CANDIDATE_LABELS[t.candidate]}: ${'msPerStep' in t ? `${t.msPerStep.toFixed(1)} ms per training step` : `failed (${t.failed})`}`),
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
    const { threads, label, device, engine } = await found.activate();
    const report = {
      name: found.name,
      label: label ?? found.label,
      device: device ?? found.device,
      threads: threads ?? found.threads,
      engine: engine ?? stockEngineId(found.name),
    };
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

interface AutomaticOptions {
  net: TimedNet;
  retime: boolean;
  /** The choice file (lib/backend-choice.ts). */
  file: string;
  note: (line: string) => void;
}

/**
 * Probes every candidate but cpu without starting it; one that can start is the choice, several
 * are timed (or their remembered timing reused) and the fastest that starts here is taken; cpu
 * only when nothing else can start.
 */
async function selectAutomatically(probes: Probes, options: AutomaticOptions): Promise<BackendReport> {
  const skipped: BackendReport['skipped'] = [];
  const usable: Array<{ candidate: CandidateId; found: UsableCandidate }> = [];
  for (const candidate of CANDIDATE_ORDER) {
    if (candidate === 'cpu') continue;
    // a software adapter is slower than every CPU backend, so automatic selection never takes it
    const found = await probeOnly(probeFor(candidate, probes, false));
    if (found.usable === false) skipped.push({ candidate, reason: found.reason });
    else usable.push({ candidate, found });
  }
  let order = usable.map((u) => u.candidate);
  let choice: BackendChoice | null = null;
  if (usable.length > 1) {
    const timed = await timingsFor(order, probes, options);
    choice = { how: timed.how, timings: timed.timings, timedAt: timed.timedAt, file: timed.file };
    // fastest first; a candidate that could not be timed is passed over with the reason
    order = timed.timings
      .filter((t): t is { candidate: CandidateId; msPerStep: number } => 'msPerStep' in t)
      .sort((a, b) => a.msPerStep - b.msPerStep)
      .map((t) => t.candidate);
    for (const t of timed.timings) if ('failed' in t) skipped.push({ candidate: t.candidate, reason: `failed to initialise: ${t.failed}` });
  }
  for (const candidate of order) {
    const result = await activateFound(usable.find((u) => u.candidate === candidate)!.found);
    if (result.ok === true) return { ...result.report, skipped, requested: 'auto', choice: choice ?? { how: 'only', why: whyOnly(skipped) } };
    skipped.push({ candidate, reason: result.reason });
  }
  // plain JavaScript only when nothing else could start
  const cpu = await attempt(probeFor('cpu', probes, false));
  if (cpu.ok === true) return { ...cpu.report, skipped, requested: 'auto', choice: { how: 'only', why: whyOnly(skipped) } };
  skipped.push({ candidate: 'cpu', reason: cpu.reason });
  const reasons = skipped.map((s) => `${s.candidate}: ${s.reason}`).join('; ');
  throw new BackendError(`no TensorFlow.js backend could start (${reasons}); reinstall with npm ci`);
}

/** A probe's answer, a throw counting as 'failed to initialise'; nothing is started. */
async function probeOnly(probe: () => Promise<CandidateProbe>): Promise<CandidateProbe> {
  try {
    return await probe();
  } catch (error) {
    const failed = unavailable(error);
    return { usable: false, reason: failed.ok === false ? failed.reason : 'failed to initialise' };
  }
}

async function activateFound(found: UsableCandidate): Promise<Attempt> {
  return attempt(async () => found);
}

/**
 * The timings of `candidates`: the remembered ones when the key matches and no re-timing is
 * asked for, else timed now, one candidate at a time, and remembered (a file that cannot be
 * read or written costs one note, never the run).
 */
async function timingsFor(
  candidates: CandidateId[],
  probes: Probes,
  options: AutomaticOptions,
): Promise<{ timings: Array<CandidateTiming<CandidateId>>; timedAt: string; how: 'timed' | 'remembered'; file: string | null }> {
  // the wasm settings are read from this process's environment, as the backends (and the timing
  // children, which inherit it) read them
  const parts = choiceKeyParts(candidates, options.net, process.env);
  const key = choiceKey(parts);
  if (!options.retime) {
    const lookup = readChoice(options.file, key);
    if (lookup.found !== null) {
      const timings = lookup.found.timings.filter((t): t is CandidateTiming<CandidateId> => (candidates as string[]).includes(t.candidate));
      if (timings.length > 0 && chooseFastest(timings) !== null) return { timings, timedAt: lookup.found.timedAt, how: 'remembered', file: options.file };
    } else if (lookup.note !== undefined) {
      options.note(lookup.note);
    }
  }
  const timings: Array<CandidateTiming<CandidateId>> = [];
  for (const candidate of candidates) timings.push(await probes.time(candidate, options.net));
  const timedAt = new Date().toISOString();
  const chosen = chooseFastest(timings);
  if (chosen === null) return { timings, timedAt, how: 'timed', file: null };
  const problem = await writeChoice(options.file, key, parts, { chosen, timings, timedAt });
  if (problem !== null) options.note(problem);
  return { timings, timedAt, how: 'timed', file: problem === null ? options.file : null };
}

/** The packages whose versions change how fast a candidate trains. */
const TIMED_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-backend-webgpu',
  'webgpu',
  '@tensorflow/tfjs-backend-wasm',
];

/**
 * What the remembered choice depends on: this machine, the candidates that can start, Node and
 * the packages' versions, the wasm settings, and the net at its batch size.
 */
export function choiceKeyParts(candidates: readonly CandidateId[], net: TimedNet, env: Record<string, string | undefined> = process.env): ChoiceKeyParts {
  const versions: Record<string, string> = { node: process.versions.node };
  for (const packageName of TIMED_PACKAGES) {
    const state = inspectPackage(packageName);
    if (state.state === 'installed') versions[packageName] = packageVersion(state.dir);
  }
  for (const name of ['MNIST_SPEEDRUN_WASM_THREADS', 'MNIST_SPEEDRUN_WASM_SIMD']) {
    const value = env[name]?.trim();
    if (value) versions[name] = value;
  }
  return { machine: machineKey(describeMachine()), candidates, versions, net: `${netLabel(net.net)}@${net.batchSize}` };
}

function packageVersion(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Why the other candidates are not candidates, in a few words each: 'no GPU device, tfjs-node not installed'. */
export function whyOnly(skipped: BackendReport['skipped']): string {
  return skipped.map((s) => shortReason(s.candidate, s.reason)).join(', ');
}

const PACKAGE_OF: Partial<Record<CandidateId, string>> = {
  'tensorflow-gpu': 'tfjs-node-gpu',
  'tensorflow-cpu': 'tfjs-node',
};

function shortReason(candidate: CandidateId, reason: string): string {
  if (reason === NO_GPU_DEVICE_REASON) return 'no GPU device';
  if (reason.startsWith('not installed') && PACKAGE_OF[candidate] !== undefined) return `${PACKAGE_OF[candidate]} not installed`;
  if (reason.startsWith('no CUDA libraries')) return 'no CUDA libraries';
  const cut = reason.search(/ \(|: /);
  const short = cut > 0 ? reason.slice(0, cut) : reason;
  return short.includes(candidate) ? short : `${candidate}: ${short}`;
}

/**
 * Starts one candidate as automatic selection would (WebGPU on hardware adapters only), for the
 * child process that times it: its report, or why it cannot start here.
 */
export async function startCandidate(
  candidate: CandidateId,
  probes: Partial<Probes> = {},
): Promise<{ ok: true; report: BackendReport } | { ok: false; reason: string }> {
  const result = await attempt(probeFor(candidate, { ...realProbes, ...probes }, false));
  if (result.ok === false) return result;
  return { ok: true, report: { ...result.report, skipped: [], requested: 'auto' } };
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
      const { threads, nativeBuild, engine } = await setupWasm();
      return { threads, engine, label: wasmLabel(nativeBuild === null ? null : NATIVE_BUILDS[nativeBuild].label) };
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

/**
 * Automatic selection's WebGPU probe: `full` (which loads Dawn and asks it for an adapter) runs
 * only when the candidate is started, so a machine with a GPU whose WebGPU then loses the timing
 * never loads Dawn in this process (its stderr warnings and shader cache stay out). Without a GPU
 * device node, or without the webgpu package, WebGPU is no candidate. An explicit request
 * (`allowSoftware`) probes at once.
 */
export function deferredWebgpuProbe(
  full: Probes['webgpu'] = webgpuProbe(),
  gpuDevices: () => string[] | null = () => gpuDeviceNodes(),
  installed: () => boolean = () => inspectPackage('webgpu').state === 'installed',
): Probes['webgpu'] {
  return async (options) => {
    if (options.allowSoftware) return full(options);
    const nodes = gpuDevices();
    if (nodes?.length === 0) return { usable: false, reason: NO_GPU_DEVICE_REASON };
    if (!installed()) return { usable: false, reason: 'not installed (npm install webgpu)' };
    return {
      usable: true,
      name: 'webgpu',
      label: 'WebGPU (Dawn)',
      device: nodes === null ? 'the GPU' : nodes.join(', '),
      activate: async () => {
        const found = await full(options);
        if (found.usable === false) throw new Error(found.reason);
        const started = await found.activate();
        return { label: started.label ?? found.label, device: started.device ?? found.device, threads: started.threads ?? found.threads, engine: started.engine };
      },
    };
  };
}

/** Marks a child's result line among anything a library prints on stdout (cli/backend-probe.ts). */
export const PROBE_PREFIX = 'backend-probe:';

/** What the timing child prints after PROBE_PREFIX. */
export type ChildTiming = { ok: true; msPerStep: number; text: string } | { ok: false; text: string };

/** Longest a timing child may take (start-up, the candidate's start, 4 steps). */
const CHILD_TIMEOUT_MS = 180_000;

/**
 * Times `candidate` in a child process (`cli/backend-probe.ts time <candidate> <net>`): its
 * stderr (Dawn's and the Vulkan loader's warnings) is kept from the terminal and Mesa's shader
 * cache is off, so a candidate that loses leaves nothing behind.
 */
export function childTimer(root?: string): Probes['time'] {
  return (candidate, net) =>
    new Promise((resolve) => {
      root ??= projectRoot();
      // the wasm engine's relaxed-SIMD build needs the same runtime flags as this process
      const flags = process.execArgv.filter((flag) => flag.startsWith('--experimental-wasm'));
      const child = spawn(
        process.execPath,
        [...flags, '--import', 'tsx', join(root, 'cli', 'backend-probe.ts'), 'time', candidate, JSON.stringify({ net: net.net, batchSize: net.batchSize, optimizer: net.optimizer })],
        {
          cwd: root,
          env: { ...process.env, MESA_SHADER_CACHE_DISABLE: 'true', MESA_GLSL_CACHE_DISABLE: 'true' },
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: CHILD_TIMEOUT_MS,
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const settle = (why: string | null): void => {
        const line = stdout.split('\n').find((l) => l.startsWith(PROBE_PREFIX));
        if (line !== undefined) {
          const result = JSON.parse(line.slice(PROBE_PREFIX.length)) as ChildTiming;
          resolve(result.ok === true ? { candidate, msPerStep: result.msPerStep } : { candidate, failed: result.text });
          return;
        }
        const last = stderr.trim().split('\n').pop();
        resolve({ candidate, failed: `the timing process ended without a result (${why ?? (last || 'no message')})` });
      };
      child.on('error', (error) => settle(error.message));
      child.on('close', (code, signal) => settle(signal !== null ? `killed by ${signal}` : code === 0 ? null : `exit status ${code}`));
    });
}

/** The probes used unless a request replaces some. */
export const realProbes: Probes = {
  tensorflowGpu: probeTensorflowGpu,
  webgpu: deferredWebgpuProbe(),
  time: childTimer(),
  tensorflowCpu: probeTensorflowCpu,
  wasm: probeWasm,
  cpu: probeCpu,
};

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}
