/**
 * Automatic selection by measurement (lib/backend.ts, lib/backend-choice.ts): the fastest
 * candidate wins whatever kind it is, the choice is remembered per machine in the cache folder and
 * reused while its key matches, re-timed on request, and a choice file that cannot be read or
 * written never fails a run. Candidates and timers are injected; one test times real candidates in
 * child processes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CANDIDATE_ORDER,
  childTimer,
  deferredWebgpuProbe,
  describeBackend,
  describeChoice,
  explainBackend,
  inspectPackage,
  NO_GPU_DEVICE_REASON,
  useBackend,
  type CandidateId,
  type CandidateProbe,
  type Probes,
  type TimedNet,
} from '../lib/backend';
import {
  chooseFastest,
  choiceFile,
  choiceKey,
  readChoice,
  writeChoice,
  type CandidateTiming,
  type ChoiceKeyParts,
} from '../lib/backend-choice';
import { recipeForStep } from '../lib/recipes';
import { tempDirFactory } from './temp-dirs';

const tempDir = tempDirFactory('backend-choice-');

// ---------------------------------------------------------------------------------------------
// Pure pieces

test('chooseFastest takes the lowest ms per step, passes over failures, keeps the first of a tie, and is null when nothing was timed', () => {
  assert.equal(chooseFastest([{ candidate: 'webgpu', msPerStep: 120 }, { candidate: 'wasm', msPerStep: 45 }]), 'wasm');
  assert.equal(chooseFastest([{ candidate: 'tensorflow-gpu', failed: 'no CUDA' }, { candidate: 'webgpu', msPerStep: 9 }, { candidate: 'wasm', msPerStep: 45 }]), 'webgpu');
  assert.equal(chooseFastest([{ candidate: 'a', msPerStep: 30 }, { candidate: 'b', msPerStep: 30 }]), 'a');
  assert.equal(chooseFastest([{ candidate: 'a', msPerStep: Number.NaN }, { candidate: 'b', msPerStep: 80 }]), 'b');
  assert.equal(chooseFastest([{ candidate: 'a', failed: 'x' }]), null);
  assert.equal(chooseFastest([]), null);
});

const PARTS: ChoiceKeyParts = {
  machine: 'AMD EPYC|2|24|linux-x64',
  candidates: ['webgpu', 'wasm'],
  versions: { node: '20.20.2', webgpu: '0.6.2' },
  net: 'final@256',
};

test('the choice key is the same for the same parts in any candidate order, and changes with every part', () => {
  const key = choiceKey(PARTS);
  assert.match(key, /^[0-9a-f]{16}$/);
  assert.equal(choiceKey({ ...PARTS, candidates: ['wasm', 'webgpu'] }), key);
  const others = [
    { ...PARTS, machine: 'AMD EPYC|4|24|linux-x64' },
    { ...PARTS, candidates: ['wasm'] },
    { ...PARTS, versions: { ...PARTS.versions, webgpu: '0.6.3' } },
    { ...PARTS, versions: { ...PARTS.versions, '@tensorflow/tfjs-node': '4.22.0' } },
    { ...PARTS, net: 'baseline@64' },
  ];
  for (const other of others) assert.notEqual(choiceKey(other), key, JSON.stringify(other));
});

const TIMINGS: Array<CandidateTiming<CandidateId>> = [
  { candidate: 'webgpu', msPerStep: 120 },
  { candidate: 'wasm', msPerStep: 45 },
];

test('the choice file lives in $XDG_CACHE_HOME/mnist-speedrun; written choices are read back by key, side by side', async () => {
  const cache = tempDir();
  const file = choiceFile({ XDG_CACHE_HOME: cache });
  assert.equal(file, join(cache, 'mnist-speedrun', 'backend-choice.json'));
  assert.deepEqual(readChoice(file, 'k1'), { found: null });
  const first = { chosen: 'wasm', timings: TIMINGS, timedAt: '2026-12-01T10:00:00.000Z' };
  assert.equal(await writeChoice(file, 'k1', PARTS, first), null);
  const second = { chosen: 'webgpu', timings: [{ candidate: 'webgpu', msPerStep: 5 }], timedAt: '2026-12-02T10:00:00.000Z' };
  assert.equal(await writeChoice(file, 'k2', { ...PARTS, net: 'baseline@64' }, second), null);
  assert.deepEqual(readChoice(file, 'k1'), { found: first });
  assert.deepEqual(readChoice(file, 'k2'), { found: second });
  assert.deepEqual(readChoice(file, 'k3'), { found: null });
  // what it depends on is kept beside it, for people reading the file
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { choices: Record<string, { parts: ChoiceKeyParts }> };
  assert.deepEqual(stored.choices.k1?.parts, PARTS);
});

test('a corrupt choice file gives a note and no choice; the next write replaces it; a malformed entry is not trusted', async () => {
  const file = join(tempDir(), 'backend-choice.json');
  writeFileSync(file, '{"version": 1, "choices": {"k1": ');
  const lookup = readChoice(file, 'k1');
  assert.equal(lookup.found, null);
  assert.match(lookup.found === null ? lookup.note ?? '' : '', /is not valid JSON, so the backends are timed again and it is rewritten$/);
  assert.equal(await writeChoice(file, 'k1', PARTS, { chosen: 'wasm', timings: TIMINGS, timedAt: '2026-12-01T10:00:00.000Z' }), null);
  assert.equal(readChoice(file, 'k1').found?.chosen, 'wasm');

  writeFileSync(file, JSON.stringify({ version: 99, choices: {} }));
  assert.match((readChoice(file, 'k1') as { note?: string }).note ?? '', /not a backend choice of this version/);
  writeFileSync(file, JSON.stringify({ version: 1, choices: { k1: { chosen: 'wasm', timings: 'fast' } } }));
  assert.match((readChoice(file, 'k1') as { note?: string }).note ?? '', /malformed entry/);
});

test('a choice file that cannot be written is a one-line note naming the file and the variable, not an error', async () => {
  const blocker = join(tempDir(), 'a-file');
  writeFileSync(blocker, 'not a folder');
  const file = choiceFile({ XDG_CACHE_HOME: blocker });
  const note = await writeChoice(file, 'k1', PARTS, { chosen: 'wasm', timings: TIMINGS, timedAt: '2026-12-01T10:00:00.000Z' });
  assert.ok(note !== null);
  assert.ok(note.startsWith(`the backend choice was not remembered: ${file} cannot be written (`), note);
  assert.match(note, /set XDG_CACHE_HOME to a writable folder$/);
  assert.doesNotMatch(note, /\n/);
  assert.deepEqual(readChoice(file, 'k1'), { found: null });
});

test('describeChoice: the only candidate with why, or the timings fastest first with the date and where it is remembered', () => {
  assert.equal(describeChoice({ how: 'only', why: 'no GPU device, tfjs-node not installed' }), 'the only candidate here: no GPU device, tfjs-node not installed');
  const home = '/home/ada';
  assert.equal(
    describeChoice({ how: 'timed', timings: TIMINGS, timedAt: '2026-12-01T10:00:00.000Z', file: `${home}/.cache/mnist-speedrun/backend-choice.json` }, home),
    'fastest of wasm 45 ms/step, webgpu 120 ms/step; timed 2026-12-01, remembered in ~/.cache/mnist-speedrun/backend-choice.json',
  );
  assert.equal(
    describeChoice({ how: 'remembered', timings: [...TIMINGS, { candidate: 'tensorflow-cpu', failed: 'no libtensorflow' }], timedAt: '2026-11-30T23:00:00.000Z', file: null }, home),
    'fastest of wasm 45 ms/step, webgpu 120 ms/step, tensorflow-cpu failed (no libtensorflow); timed 2026-11-30, not remembered',
  );
});

// ---------------------------------------------------------------------------------------------
// Selection with injected candidates and timers

interface Fakes {
  probes: Probes;
  activated: CandidateId[];
  timed: CandidateId[];
}

/** Candidates that can start (the others absent), each timed at `ms` (a string: the timing fails). */
function fakes(ms: Partial<Record<CandidateId, number | string>>, failsToStart: CandidateId[] = []): Fakes {
  const activated: CandidateId[] = [];
  const timed: CandidateId[] = [];
  const make = (id: CandidateId) => async (): Promise<CandidateProbe> => {
    if (ms[id] === undefined) return { usable: false, reason: `not installed (npm install ${id})` };
    return {
      usable: true,
      name: id.startsWith('tensorflow') ? 'tensorflow' : id,
      label: `fake ${id}`,
      device: `device of ${id}`,
      activate: async () => {
        if (failsToStart.includes(id)) throw new Error(`${id} would not start here`);
        activated.push(id);
        return {};
      },
    };
  };
  return {
    activated,
    timed,
    probes: {
      tensorflowGpu: make('tensorflow-gpu'),
      webgpu: make('webgpu'),
      tensorflowCpu: make('tensorflow-cpu'),
      wasm: make('wasm'),
      cpu: make('cpu'),
      time: async (candidate) => {
        timed.push(candidate);
        const value = ms[candidate]!;
        return typeof value === 'number' ? { candidate, msPerStep: value } : { candidate, failed: value };
      },
    },
  };
}

function cacheEnv(): { XDG_CACHE_HOME: string } {
  return { XDG_CACHE_HOME: tempDir() };
}

const NET: TimedNet = recipeForStep(8);

test('a GPU backend is not assumed faster: wasm timed faster than WebGPU is chosen, and the line says why', async () => {
  const env = cacheEnv();
  const f = fakes({ webgpu: 120, wasm: 45 });
  const notes: string[] = [];
  const report = await useBackend({ probes: f.probes, env, net: NET, note: (l) => notes.push(l) });
  assert.deepEqual(f.timed, ['webgpu', 'wasm']);
  assert.deepEqual(f.activated, ['wasm']);
  assert.equal(report.name, 'wasm');
  assert.deepEqual(notes, []);
  const file = choiceFile(env);
  const line = describeBackend(report);
  const today = new Date().toISOString().slice(0, 10);
  assert.ok(
    line.endsWith(`(chosen automatically: fastest of wasm 45 ms/step, webgpu 120 ms/step; timed ${today}, remembered in ${file})`) ||
      line.endsWith(`(chosen automatically: fastest of wasm 45 ms/step, webgpu 120 ms/step; timed ${today}, remembered in ~${file.slice(process.env.HOME?.length ?? 0)})`),
    line,
  );
  // cpu is no candidate beside others, and never timed
  assert.ok(!f.timed.includes('cpu'));
  assert.ok(existsSync(file));
});

test('the remembered choice is reused without timing while the key matches; retime, explain or another candidate set time again', async () => {
  const env = cacheEnv();
  await useBackend({ probes: fakes({ webgpu: 20, wasm: 45 }).probes, env, net: NET });

  const again = fakes({ webgpu: 500, wasm: 45 });
  const reused = await useBackend({ probes: again.probes, env, net: NET });
  assert.deepEqual(again.timed, [], 'timed although a choice was remembered');
  assert.deepEqual(again.activated, ['webgpu']);
  assert.equal(reused.choice?.how, 'remembered');
  assert.match(describeBackend(reused), /\(chosen automatically: fastest of webgpu 20 ms\/step, wasm 45 ms\/step; timed \d{4}-\d\d-\d\d, remembered in .*backend-choice\.json\)$/);

  // another net is another key
  const otherNet = fakes({ webgpu: 20, wasm: 45 });
  await useBackend({ probes: otherNet.probes, env, net: recipeForStep(1) });
  assert.deepEqual(otherNet.timed, ['webgpu', 'wasm']);

  const retimed = fakes({ webgpu: 500, wasm: 45 });
  const report = await useBackend({ probes: retimed.probes, env, net: NET, retime: true });
  assert.deepEqual(retimed.timed, ['webgpu', 'wasm']);
  assert.equal(report.name, 'wasm');
  assert.equal(report.choice?.how, 'timed');

  // MNIST_SPEEDRUN_RETIME=1 does the same
  const byVariable = fakes({ webgpu: 5, wasm: 45 });
  await useBackend({ probes: byVariable.probes, env: { ...env, MNIST_SPEEDRUN_RETIME: '1' }, net: NET });
  assert.deepEqual(byVariable.timed, ['webgpu', 'wasm']);

  // --explain re-times and prints each candidate's time
  const explained = fakes({ webgpu: 5, wasm: 45 });
  const lines: string[] = [];
  const shown = await useBackend({ probes: explained.probes, env, net: NET, explain: true, log: (l) => lines.push(l) });
  assert.deepEqual(explained.timed, ['webgpu', 'wasm']);
  assert.deepEqual(lines, explainBackend(shown));
  assert.ok(lines.includes('  timed WebGPU on a hardware adapter: 5.0 ms per training step'), lines.join('\n'));
  assert.ok(lines.includes('  timed WebAssembly (@tensorflow/tfjs-backend-wasm): 45.0 ms per training step'), lines.join('\n'));

  // a candidate more (native CPU installed) is another key
  const more = fakes({ webgpu: 5, 'tensorflow-cpu': 30, wasm: 45 });
  await useBackend({ probes: more.probes, env, net: NET });
  assert.deepEqual(more.timed, ['webgpu', 'tensorflow-cpu', 'wasm']);
});

test('one candidate is taken without timing and without a choice file, saying it was the only one and why', async () => {
  const env = cacheEnv();
  const f = fakes({ wasm: 45 });
  const report = await useBackend({ probes: f.probes, env, net: NET });
  assert.deepEqual(f.timed, []);
  assert.deepEqual(f.activated, ['wasm']);
  assert.deepEqual(report.choice, { how: 'only', why: 'tfjs-node-gpu not installed, webgpu: not installed, tfjs-node not installed' });
  assert.equal(existsSync(choiceFile(env)), false);

  const withoutGpu = fakes({ wasm: 45 });
  withoutGpu.probes.webgpu = async () => ({ usable: false, reason: NO_GPU_DEVICE_REASON });
  const line = describeBackend(await useBackend({ probes: withoutGpu.probes, env, net: NET }));
  assert.match(line, /\(chosen automatically: the only candidate here: tfjs-node-gpu not installed, no GPU device, tfjs-node not installed\)$/);
});

test('a candidate whose timing fails is passed over with the reason; the fastest failing to start here falls to the next', async () => {
  const env = cacheEnv();
  const f = fakes({ 'tensorflow-gpu': 'no CUDA device found', webgpu: 10, wasm: 45 }, ['webgpu']);
  const report = await useBackend({ probes: f.probes, env, net: NET });
  assert.deepEqual(f.timed, ['tensorflow-gpu', 'webgpu', 'wasm']);
  assert.deepEqual(f.activated, ['wasm']);
  assert.deepEqual(report.skipped, [
    { candidate: 'tensorflow-cpu', reason: 'not installed (npm install tensorflow-cpu)' },
    { candidate: 'tensorflow-gpu', reason: 'failed to initialise: no CUDA device found' },
    { candidate: 'webgpu', reason: 'failed to initialise: webgpu would not start here' },
  ]);
  assert.match(describeBackend(report), /fastest of webgpu 10 ms\/step, wasm 45 ms\/step, tensorflow-gpu failed \(no CUDA device found\)/);
});

test('candidates whose timing failed are not started here; with none timed, plain JavaScript runs and nothing is remembered', async () => {
  const env = cacheEnv();
  const f = fakes({ webgpu: 'Dawn crashed', wasm: 'timed out', cpu: 1 });
  const report = await useBackend({ probes: f.probes, env, net: NET });
  assert.deepEqual(f.activated, ['cpu']);
  assert.equal(report.choice?.how, 'only');
  assert.deepEqual(report.skipped.slice(-2), [
    { candidate: 'webgpu', reason: 'failed to initialise: Dawn crashed' },
    { candidate: 'wasm', reason: 'failed to initialise: timed out' },
  ]);
  assert.equal(existsSync(choiceFile(env)), false, 'a choice was remembered although nothing was timed');
});

test('a corrupt choice file costs one note and a re-timing, then holds the new choice; an unwritable one leaves the run going', async () => {
  const env = cacheEnv();
  const file = choiceFile(env);
  mkdirSync(join(env.XDG_CACHE_HOME, 'mnist-speedrun'), { recursive: true });
  writeFileSync(file, 'garbage');
  const notes: string[] = [];
  const f = fakes({ webgpu: 120, wasm: 45 });
  const report = await useBackend({ probes: f.probes, env, net: NET, note: (l) => notes.push(l) });
  assert.equal(report.name, 'wasm');
  assert.deepEqual(notes, [`${file} is not valid JSON, so the backends are timed again and it is rewritten`]);
  const reused = fakes({ webgpu: 120, wasm: 45 });
  assert.equal((await useBackend({ probes: reused.probes, env, net: NET, note: (l) => notes.push(l) })).choice?.how, 'remembered');
  assert.equal(notes.length, 1);

  const blocker = join(tempDir(), 'a-file');
  writeFileSync(blocker, 'not a folder');
  const unwritable: string[] = [];
  const g = fakes({ webgpu: 120, wasm: 45 });
  const run = await useBackend({ probes: g.probes, env: { XDG_CACHE_HOME: blocker }, net: NET, note: (l) => unwritable.push(l) });
  assert.equal(run.name, 'wasm');
  assert.equal(unwritable.length, 1);
  assert.match(unwritable[0]!, /^the backend choice was not remembered: .* cannot be written/);
  assert.match(describeBackend(run), /; timed \d{4}-\d\d-\d\d, not remembered\)$/);
});

// ---------------------------------------------------------------------------------------------
// The real pieces

test('WebGPU in automatic selection: Dawn is asked only when the candidate is started, never without a GPU device node', async () => {
  let asked = 0;
  const full: Probes['webgpu'] = async () => {
    asked++;
    return { usable: false, reason: 'no hardware adapter: software only' };
  };
  const deferred = deferredWebgpuProbe(full, () => ['/dev/dri/renderD128'], () => true);
  const found = await deferred({ allowSoftware: false });
  assert.equal(asked, 0);
  assert.ok(found.usable === true);
  assert.equal(found.device, '/dev/dri/renderD128');
  await assert.rejects(found.activate(), /^Error: no hardware adapter: software only$/);
  assert.equal(asked, 1);

  assert.deepEqual(await deferredWebgpuProbe(full, () => [], () => true)({ allowSoftware: false }), { usable: false, reason: NO_GPU_DEVICE_REASON });
  assert.deepEqual(await deferredWebgpuProbe(full, () => ['/dev/nvidia0'], () => false)({ allowSoftware: false }), { usable: false, reason: 'not installed (npm install webgpu)' });
  assert.equal(asked, 1);
  // asked for by name, it probes at once
  await deferredWebgpuProbe(full, () => [], () => true)({ allowSoftware: true });
  assert.equal(asked, 2);
});

test('the real timer times wasm and cpu in child processes; a candidate that cannot start says why', { timeout: 180_000 }, async () => {
  // a small batch keeps the plain-JavaScript backend's steps short
  const net: TimedNet = { ...recipeForStep(8), batchSize: 16 };
  const time = childTimer();
  const wasm = await time('wasm', net);
  const cpu = await time('cpu', net);
  assert.ok('msPerStep' in wasm && wasm.msPerStep > 0, JSON.stringify(wasm));
  assert.ok('msPerStep' in cpu && cpu.msPerStep > 0, JSON.stringify(cpu));
  assert.ok(chooseFastest([wasm, cpu]) !== null);
  if (inspectPackage('@tensorflow/tfjs-node').state !== 'installed' && inspectPackage('@tensorflow/tfjs-node-gpu').state !== 'installed') {
    const native = await time('tensorflow-cpu', net);
    assert.ok('failed' in native, JSON.stringify(native));
    assert.match(native.failed, /^not installed/);
  }
  assert.ok(CANDIDATE_ORDER.includes(wasm.candidate));
});
