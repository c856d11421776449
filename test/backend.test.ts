import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  BACKEND_ENV_VAR,
  BackendError,
  CANDIDATE_ORDER,
  CUDA_LIBRARIES,
  describeBackend,
  explainBackend,
  inspectPackage,
  missingCudaLibraries,
  NO_GPU_DEVICE_REASON,
  nvidiaGpuNames,
  resolveRequestedName,
  realProbes,
  useBackend,
  webgpuProbe,
  type CandidateId,
  type CandidateProbe,
  type Probes,
} from '../lib/backend';
import { EXIT_CODES, UsageError } from '../lib/errors';
import { gpuDeviceNodes } from '../lib/gpu-devices';
import { THREADS_ENV_VAR } from '../lib/wasm/threads';
import { tempDirFactory } from './temp-dirs';
import { summarizeAdapter, type DawnBackend, type WebGpuAdapterProbe } from '../lib/webgpu';

// ---------------------------------------------------------------------------------------------
// Fake probes: each candidate present, absent or failing, no real GPU or package needed.

type Behaviour = 'present' | 'absent' | 'throws' | 'fails-to-activate';

interface Fakes {
  probes: Probes;
  /** Candidates whose activate() ran, in order. */
  activated: CandidateId[];
  /** The allowSoftware flag each webgpu probe call received. */
  webgpuAllowSoftware: boolean[];
}

/** The fake timer's ms per step: in the old order of preference unless a test says otherwise. */
const FAKE_MS: Record<CandidateId, number> = { 'tensorflow-gpu': 10, webgpu: 20, 'tensorflow-cpu': 30, wasm: 40, cpu: 50 };

const TF_NAMES: Record<CandidateId, string> = {
  'tensorflow-gpu': 'tensorflow',
  webgpu: 'webgpu',
  'tensorflow-cpu': 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

function fakeProbes(behaviour: Partial<Record<CandidateId, Behaviour>>): Fakes {
  const activated: CandidateId[] = [];
  const webgpuAllowSoftware: boolean[] = [];
  const make = (id: CandidateId) => async (): Promise<CandidateProbe> => {
    const how = behaviour[id] ?? 'present';
    if (how === 'absent') return { usable: false, reason: `${id} not installed` };
    if (how === 'throws') throw new Error(`${id} exploded\nsecond line of a stack`);
    return {
      usable: true,
      name: TF_NAMES[id],
      label: `fake ${id}`,
      device: `device of ${id}`,
      activate: async () => {
        if (how === 'fails-to-activate') throw new Error(`${id} would not start`);
        activated.push(id);
        return id === 'wasm' ? { threads: 2 } : {};
      },
    };
  };
  const webgpu = make('webgpu');
  return {
    activated,
    webgpuAllowSoftware,
    probes: {
      tensorflowGpu: make('tensorflow-gpu'),
      webgpu: async ({ allowSoftware }) => {
        webgpuAllowSoftware.push(allowSoftware);
        return webgpu();
      },
      tensorflowCpu: make('tensorflow-cpu'),
      wasm: make('wasm'),
      cpu: make('cpu'),
      time: async (candidate) => ({ candidate, msPerStep: FAKE_MS[candidate] }),
    },
  };
}

// no backend variable set, and a choice file in a temporary folder, never the user's cache
const noEnv = { XDG_CACHE_HOME: tempDirFactory('backend-test-cache-')() };

test('automatic selection takes each candidate when every faster one is absent, and says why', async () => {
  for (const [index, expected] of CANDIDATE_ORDER.entries()) {
    const absent = Object.fromEntries(CANDIDATE_ORDER.slice(0, index).map((id) => [id, 'absent' as const]));
    const fakes = fakeProbes(absent);
    const report = await useBackend({ probes: fakes.probes, env: noEnv });
    assert.deepEqual(fakes.activated, [expected]);
    assert.equal(report.name, TF_NAMES[expected]);
    assert.equal(report.device, `device of ${expected}`);
    assert.equal(report.requested, 'auto');
    assert.deepEqual(
      report.skipped,
      CANDIDATE_ORDER.slice(0, index).map((id) => ({ candidate: id, reason: `${id} not installed` })),
    );
  }
});

test('a candidate whose probe throws or whose start fails is skipped with the first line of the message', async () => {
  const fakes = fakeProbes({ 'tensorflow-gpu': 'throws', webgpu: 'fails-to-activate' });
  const report = await useBackend({ probes: fakes.probes, env: noEnv });
  assert.deepEqual(fakes.activated, ['tensorflow-cpu']);
  assert.deepEqual(report.skipped, [
    { candidate: 'tensorflow-gpu', reason: 'failed to initialise: tensorflow-gpu exploded' },
    { candidate: 'webgpu', reason: 'failed to initialise: webgpu would not start' },
  ]);
});

/** The real WebGPU probe of lib/backend.ts on an adapter described as Dawn would describe it. */
function webgpuOn(info: { device: string; description: string; vendor: string }, dawnBackend: DawnBackend): Probes['webgpu'] {
  const described: WebGpuAdapterProbe = {
    found: true,
    summary: summarizeAdapter(info, dawnBackend),
    // never opened: these tests stop before activation
    gpu: {} as GPU,
    adapterOptions: {},
  };
  return webgpuProbe(async () => described, () => A_GPU_NODE);
}
/** A machine with a GPU, as far as the device-node check can tell. */
const A_GPU_NODE = ['/dev/dri/renderD128'];
const LLVMPIPE = { device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6', vendor: 'Mesa' };
const RTX = { device: 'NVIDIA GeForce RTX 4090', description: 'Vulkan driver 550.54', vendor: 'nvidia' };

test('automatic selection never takes a software adapter; an explicit webgpu request does', async () => {
  const fakes = fakeProbes({ 'tensorflow-gpu': 'absent', 'tensorflow-cpu': 'absent' });
  const report = await useBackend({ probes: { ...fakes.probes, webgpu: webgpuOn(LLVMPIPE, 'opengl') }, env: noEnv });
  assert.equal(report.name, 'wasm');
  assert.deepEqual(fakes.activated, ['wasm']);
  const reason = report.skipped.find((s) => s.candidate === 'webgpu')?.reason ?? '';
  assert.match(reason, /^software adapter only \(llvmpipe \(LLVM 15\.0\.6, 256 bits\): .*--backend webgpu\)$/);

  // asked for by name, the same adapter is offered, labelled as software
  const explicit = await webgpuOn(LLVMPIPE, 'opengl')({ allowSoftware: true });
  assert.ok(explicit.usable === true);
  assert.equal(explicit.label, 'WebGPU (Dawn on OpenGL, software adapter: slow)');
  assert.equal(explicit.device, 'llvmpipe (LLVM 15.0.6, 256 bits) (OpenGL version 4.5 (Core Profile) Mesa 22.3.6)');
});

test('a hardware adapter is taken by automatic selection, a missing one is skipped with its reason', async () => {
  const hardware = await webgpuOn(RTX, 'default')({ allowSoftware: false });
  assert.ok(hardware.usable === true);
  assert.equal(hardware.label, 'WebGPU (Dawn on Vulkan/Metal/D3D12)');
  const fallbackFlag = await webgpuProbe(async () => ({
    found: true,
    summary: summarizeAdapter({ ...RTX, isFallbackAdapter: true } as typeof RTX, 'default'),
    gpu: {} as GPU,
    adapterOptions: {},
  }), () => A_GPU_NODE)({ allowSoftware: false });
  assert.equal(fallbackFlag.usable, false);
  const none = await webgpuProbe(async () => ({ found: false, reason: 'no adapter here' }))({ allowSoftware: true });
  assert.deepEqual(none, { usable: false, reason: 'no adapter here' });
});

test('automatic selection asks WebGPU without software, an explicit request with it', async () => {
  const auto = fakeProbes({ 'tensorflow-gpu': 'absent' });
  await useBackend({ probes: auto.probes, env: noEnv });
  assert.deepEqual(auto.webgpuAllowSoftware, [false]);
  const explicit = fakeProbes({});
  await useBackend({ name: 'webgpu', probes: explicit.probes, env: noEnv });
  assert.deepEqual(explicit.webgpuAllowSoftware, [true]);
});

test('an explicit backend that cannot load is an error with the install hint, never a fallback', async () => {
  const fakes = fakeProbes({ 'tensorflow-gpu': 'absent', 'tensorflow-cpu': 'absent' });
  await assert.rejects(useBackend({ name: 'tensorflow', probes: fakes.probes, env: noEnv }), (error: unknown) => {
    assert.ok(error instanceof BackendError);
    assert.equal(error.exitCode, 4);
    assert.match(error.message, /@tensorflow\/tfjs-node\b/);
    assert.match(error.message, /@tensorflow\/tfjs-node-gpu/);
    assert.match(error.message, /npm install @tensorflow\/tfjs-node/);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
  assert.deepEqual(fakes.activated, []);

  const broken = fakeProbes({ webgpu: 'fails-to-activate' });
  await assert.rejects(useBackend({ name: 'webgpu', probes: broken.probes, env: noEnv }), /webgpu would not start/);
  assert.deepEqual(broken.activated, []);
});

test("explicit 'tensorflow' uses the CPU build when the GPU one cannot run, and says why", async () => {
  const fakes = fakeProbes({ 'tensorflow-gpu': 'absent' });
  const report = await useBackend({ name: 'tensorflow', probes: fakes.probes, env: noEnv });
  assert.deepEqual(fakes.activated, ['tensorflow-cpu']);
  assert.equal(report.requested, 'tensorflow');
  assert.deepEqual(report.skipped, [{ candidate: 'tensorflow-gpu', reason: 'tensorflow-gpu not installed' }]);
});

test(`${BACKEND_ENV_VAR} chooses the backend unless an argument does; unknown names are usage errors`, async () => {
  const fromEnv = fakeProbes({});
  const report = await useBackend({ probes: fromEnv.probes, env: { [BACKEND_ENV_VAR]: 'wasm' } });
  assert.equal(report.name, 'wasm');
  assert.equal(report.requested, 'wasm');
  assert.deepEqual(fromEnv.activated, ['wasm']);

  const overridden = fakeProbes({});
  await useBackend({ name: 'cpu', probes: overridden.probes, env: { [BACKEND_ENV_VAR]: 'wasm' } });
  assert.deepEqual(overridden.activated, ['cpu']);

  assert.equal(resolveRequestedName(undefined, { [BACKEND_ENV_VAR]: '' }), 'auto');
  assert.throws(
    () => resolveRequestedName(undefined, { [BACKEND_ENV_VAR]: 'cuda' }),
    (error: unknown) => error instanceof UsageError && error.exitCode === 2 && /^MNIST_SPEEDRUN_BACKEND='cuda' is not allowed: use auto, tensorflow, webgpu, wasm or cpu, or unset it$/.test(error.message),
  );
});

test('every candidate failing is an error naming each reason', async () => {
  const all = Object.fromEntries(CANDIDATE_ORDER.map((id) => [id, 'absent' as const]));
  await assert.rejects(useBackend({ probes: fakeProbes(all).probes, env: noEnv }), (error: unknown) => {
    assert.ok(error instanceof BackendError);
    for (const id of CANDIDATE_ORDER) assert.match(error.message, new RegExp(`${id} not installed`));
    return true;
  });
});

test('describeBackend is one line with backend, device and threads; explain adds the engine and one line per skip', async () => {
  const fakes = fakeProbes({ 'tensorflow-gpu': 'absent', webgpu: 'absent', 'tensorflow-cpu': 'absent' });
  const lines: string[] = [];
  const report = await useBackend({ probes: fakes.probes, env: noEnv, explain: true, log: (l) => lines.push(l) });
  const line = describeBackend(report);
  assert.doesNotMatch(line, /\n/);
  assert.equal(line, 'wasm: fake wasm on device of wasm, 2 threads (chosen automatically: the only candidate here: tensorflow-gpu not installed, webgpu not installed, tensorflow-cpu not installed)');
  assert.deepEqual(lines, explainBackend(report));
  assert.equal(lines.length, 5);
  // a candidate that reports no engine of its own runs TensorFlow.js's kernels
  assert.match(lines[1]!, /^ {2}engine [0-9a-f]{8}: wasm: TensorFlow\.js kernels; engine r\d+$/);
  assert.match(lines[3]!, /WebGPU.*webgpu not installed/);
});

// ---------------------------------------------------------------------------------------------
// Real probes and helpers

test('a folder holding another package under the native name counts as not installed', () => {
  const root = mkdtempSync(join(tmpdir(), 'backend-test-'));
  const write = (name: string, manifestName: string) => {
    mkdirSync(join(root, 'node_modules', name), { recursive: true });
    writeFileSync(join(root, 'node_modules', name, 'package.json'), JSON.stringify({ name: manifestName }));
  };
  write('@tensorflow/tfjs-node', '@tensorflow/tfjs');
  write('@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node-gpu');
  const from = pathToFileURL(join(root, 'index.js')).href;
  assert.deepEqual(inspectPackage('@tensorflow/tfjs-node', from), { state: 'impostor', actualName: '@tensorflow/tfjs' });
  assert.equal(inspectPackage('@tensorflow/tfjs-node-gpu', from).state, 'installed');
  assert.deepEqual(inspectPackage('no-such-package-here', from), { state: 'missing' });
});

test('CUDA libraries are reported missing one by one', () => {
  assert.deepEqual(missingCudaLibraries(() => true), []);
  assert.deepEqual(missingCudaLibraries(() => false), CUDA_LIBRARIES);
  assert.deepEqual(
    missingCudaLibraries((lib) => lib !== 'libcudnn.so.8'),
    ['libcudnn.so.8'],
  );
});

test('NVIDIA GPU names come from the driver files, none without the driver', () => {
  const root = mkdtempSync(join(tmpdir(), 'backend-test-'));
  assert.deepEqual(nvidiaGpuNames(join(root, 'absent')), []);
  mkdirSync(join(root, '0000:01:00.0'));
  writeFileSync(join(root, '0000:01:00.0', 'information'), 'Model: \t\t NVIDIA H200\nIRQ:   42\n');
  assert.deepEqual(nvidiaGpuNames(root), ['NVIDIA H200']);
});

test("on this machine 'tensorflow' either runs natively or fails naming the package and the command", async () => {
  try {
    const report = await useBackend({ name: 'tensorflow', env: noEnv });
    assert.equal(report.name, 'tensorflow');
    assert.equal(tf.getBackend(), 'tensorflow');
  } catch (error) {
    assert.ok(error instanceof BackendError, String(error));
    assert.match(error.message, /npm install @tensorflow\/tfjs-node/);
    // the alias of @tensorflow/tfjs under the native name must not have registered a backend
    assert.equal(tf.findBackendFactory('tensorflow'), null);
  }
});

test('automatic selection on this machine activates what it reports, never a software adapter', async () => {
  const report = await useBackend({ env: noEnv });
  assert.equal(tf.getBackend(), report.name);
  assert.doesNotMatch(report.label, /software/);
  assert.ok(report.device.length > 0);
  for (const skip of report.skipped) assert.ok(skip.reason.length > 0);
  const result = await tf.add(tf.scalar(2), tf.scalar(3)).data();
  assert.equal(result[0], 5);
});

// ---------------------------------------------------------------------------------------------
// An invalid wasm thread setting is a usage error, never a reason to pick another backend

/** Runs `body` with the wasm thread variable set to `value` in this process's environment. */
async function withThreadsEnv(value: string, body: () => Promise<void>): Promise<void> {
  const before = process.env[THREADS_ENV_VAR];
  process.env[THREADS_ENV_VAR] = value;
  try {
    await body();
  } finally {
    if (before === undefined) delete process.env[THREADS_ENV_VAR];
    else process.env[THREADS_ENV_VAR] = before;
  }
}

const isThreadsUsageError = (value: string) => (error: unknown): boolean => {
  assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
  assert.equal(error.exitCode, EXIT_CODES.usage);
  assert.ok(error.message.includes(`${THREADS_ENV_VAR}='${value}'`), error.message);
  assert.match(error.message, /is not allowed: use auto \(every core\) or a whole number/);
  return true;
};

for (const value of ['abc', '-1', '1.5', 'Auto']) {
  test(`${THREADS_ENV_VAR}='${value}' is a usage error for automatic and explicit choices, before any backend starts`, async () => {
    await withThreadsEnv(value, async () => {
      const auto = fakeProbes({ 'tensorflow-gpu': 'absent', webgpu: 'absent', 'tensorflow-cpu': 'absent' });
      await assert.rejects(useBackend({ probes: { ...auto.probes, wasm: realProbes.wasm }, env: noEnv }), isThreadsUsageError(value));
      assert.deepEqual(auto.activated, [], 'a backend was started before the setting was checked');
      await assert.rejects(useBackend({ name: 'wasm', env: noEnv }), isThreadsUsageError(value));
      const cpu = fakeProbes({});
      await assert.rejects(useBackend({ name: 'cpu', probes: cpu.probes, env: noEnv }), isThreadsUsageError(value));
      assert.deepEqual(cpu.activated, []);
    });
  });
}

test('a usage error from a candidate is raised, not taken as that backend being unavailable', async () => {
  const fakes = fakeProbes({ 'tensorflow-gpu': 'absent', webgpu: 'absent', 'tensorflow-cpu': 'absent' });
  const wasm: Probes['wasm'] = async () => ({
    usable: true, name: 'wasm', label: 'wasm', device: 'here',
    activate: async () => { throw new UsageError('bad setting'); },
  });
  await assert.rejects(useBackend({ probes: { ...fakes.probes, wasm }, env: noEnv }), (e: unknown) => e instanceof UsageError);
  assert.deepEqual(fakes.activated, [], 'fell back to another backend');
  await assert.rejects(useBackend({ name: 'wasm', probes: { wasm }, env: noEnv }), (e: unknown) => e instanceof UsageError);
});

test(`the CLI: ${THREADS_ENV_VAR}=abc ends 'backends' with exit 2 and names the variable`, () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'backends'], {
    cwd: root,
    env: { ...process.env, [THREADS_ENV_VAR]: 'abc' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.error, undefined, String(result.error));
  assert.equal(result.status, 2, result.stdout + result.stderr);
  assert.ok(result.stderr.includes(`${THREADS_ENV_VAR}='abc'`), result.stderr);
});

test('without a GPU device node automatic selection skips WebGPU without loading Dawn; an explicit request still probes', async () => {
  let probed = 0;
  const probe = webgpuProbe(async () => {
    probed++;
    return { found: false, reason: 'Dawn found nothing' };
  }, () => []);
  assert.deepEqual(await probe({ allowSoftware: false }), { usable: false, reason: NO_GPU_DEVICE_REASON });
  assert.equal(probed, 0);
  assert.match(NO_GPU_DEVICE_REASON, /\/dev\/dri\/renderD\*, \/dev\/nvidia\*.*--backend webgpu/);
  assert.deepEqual(await probe({ allowSoftware: true }), { usable: false, reason: 'Dawn found nothing' });
  assert.equal(probed, 1);
  // where device nodes cannot tell (macOS, Windows) or one exists, Dawn is asked
  await webgpuProbe(async () => (probed++, { found: false, reason: 'x' }), () => null)({ allowSoftware: false });
  await webgpuProbe(async () => (probed++, { found: false, reason: 'x' }), () => A_GPU_NODE)({ allowSoftware: false });
  assert.equal(probed, 3);
});

test('GPU device nodes: DRM render nodes and NVIDIA nodes on Linux, none elsewhere', async () => {
  const dev = await mkdtemp(join(tmpdir(), 'dev-'));
  assert.deepEqual(gpuDeviceNodes('linux', dev), []);
  await mkdir(join(dev, 'dri'));
  await writeFile(join(dev, 'dri', 'card0'), '');
  await writeFile(join(dev, 'null'), '');
  // a display-only card node is not a render node
  assert.deepEqual(gpuDeviceNodes('linux', dev), []);
  await writeFile(join(dev, 'dri', 'renderD128'), '');
  await writeFile(join(dev, 'nvidia0'), '');
  await writeFile(join(dev, 'nvidiactl'), '');
  assert.deepEqual(gpuDeviceNodes('linux', dev), [join(dev, 'dri', 'renderD128'), join(dev, 'nvidia0'), join(dev, 'nvidiactl')]);
  assert.equal(gpuDeviceNodes('darwin', dev), null);
  assert.equal(gpuDeviceNodes('win32', dev), null);
  await rm(dev, { recursive: true });
});
