import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  appendToLedger,
  newestComparablePerStep,
  readLedger,
  recordingLedgerDir,
  recordProblem,
  referenceLedgerDir,
  userLedgerDir,
} from '../lib/ledger';
import { ladderFrom } from '../lib/comparison';
import { projectRoot } from '../lib/project-root';
import { RECIPES } from '../lib/recipes';
import { makeStepRecord } from '../lib/results';
import { LAPTOP, makeRecord, SERVER, TEST_HASHES } from './ledger-records';

const isRoot = process.getuid?.() === 0;

test('a record written to the ledger reads back equal, and no temporary file is left', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  const written = makeRecord(3, '2026-01-01T00:00:00.000Z');
  await appendToLedger(written, dir);
  const { records, problems } = await readLedger(dir);
  assert.deepEqual(records, [written]);
  assert.deepEqual(problems, []);
  assert.equal((await readdir(dir)).filter((n) => n.endsWith('.tmp')).length, 0);
});

test('a missing ledger folder reads as empty', async () => {
  const dir = join(await mkdtemp(join(tmpdir(), 'ledger-')), 'absent');
  assert.deepEqual(await readLedger(dir), { records: [], problems: [] });
});

test('two processes recording at once lose neither record', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  const perProcess = 25;
  const script = `
    import { appendToLedger } from './lib/ledger';
    import { makeRecord } from './test/ledger-records';
    const writes = [];
    for (let i = 0; i < ${perProcess}; i++) {
      writes.push(appendToLedger(makeRecord(8, new Date().toISOString(), { device: 'p' + process.pid }), ${JSON.stringify(dir)}));
    }
    await Promise.all(writes);
  `;
  const runOne = () =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'inherit' });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code ?? -1));
    });
  assert.deepEqual(await Promise.all([runOne(), runOne()]), [0, 0]);
  const { records, problems } = await readLedger(dir);
  assert.equal(problems.length, 0);
  assert.equal(records.length, 2 * perProcess);
  assert.equal(new Set(records.map((r) => r.device)).size, 2);
});

test('a bad ledger file is reported and skipped; reading never moves, renames or deletes a file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  await appendToLedger(makeRecord(1, '2026-01-01T00:00:00.000Z'), dir);
  const files: Record<string, string> = {
    'half.json': '{"kind":"step-result","version":2,"st',
    'other.json': JSON.stringify({ hello: 'world' }),
    'newer-schema.json': JSON.stringify({ ...makeRecord(2, '2026-01-02T00:00:00.000Z'), version: 3 }),
    'older-schema.json': JSON.stringify({ ...makeRecord(2, '2026-01-02T00:00:00.000Z'), version: 1 }),
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const before = (await readdir(dir)).sort();
  for (let pass = 0; pass < 2; pass++) {
    const { records, problems } = await readLedger(dir);
    assert.equal(records.length, 1);
    assert.equal(problems.length, 4);
    assert.ok(problems.some((p) => /half\.json: not valid JSON/.test(p)));
    assert.ok(problems.some((p) => /newer-schema\.json: schema version 3, this version reads 2/.test(p)));
    assert.deepEqual((await readdir(dir)).sort(), before, 'the folder is unchanged');
  }
  for (const [name, text] of Object.entries(files)) assert.equal(await readFile(join(dir, name), 'utf8'), text);
});

test('a ladder read from a ledger with impossible records skips and names each, and shows no NaN or Infinity', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  // step 1 is the ladder's first row, the one every speed-up is divided by
  for (const step of [1, 4, 8]) await appendToLedger(makeRecord(step, `2026-01-0${step}T00:00:00.000Z`), dir);
  const good = makeRecord(1, '2026-02-01T00:00:00.000Z');
  const bad: Record<string, unknown> = {
    'step99.json': { ...good, step: 99 },
    'no-runs.json': { ...good, runs: [] },
    'zero-seconds.json': { ...good, runs: [{ ...good.runs[0], seconds: 0 }] },
    'zero-reference.json': { ...good, reference: { ...good.reference, seconds: 0 } },
  };
  for (const [name, record] of Object.entries(bad)) await writeFile(join(dir, name), JSON.stringify(record));
  const { records, problems } = await readLedger(dir);
  assert.equal(records.length, 3);
  for (const name of Object.keys(bad)) assert.ok(problems.some((p) => p.includes(name)), `${name} not reported: ${problems.join('; ')}`);
  const rows = ladderFrom(records, TEST_HASHES);
  assert.deepEqual(rows.map((row) => row.step), [1, 4, 8]);
  const text = JSON.stringify(rows, (_, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value));
  assert.doesNotMatch(text, /NaN|Infinity/, text);
});

test('many readers at once of a ledger with bad files all succeed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  await appendToLedger(makeRecord(4, '2026-01-01T00:00:00.000Z'), dir);
  await writeFile(join(dir, 'bad.json'), 'not json');
  const results = await Promise.all(Array.from({ length: 8 }, () => readLedger(dir)));
  for (const { records, problems } of results) {
    assert.equal(records.length, 1);
    assert.equal(problems.length, 1);
  }
});

test('a read-only ledger with a bad file reads, reporting it', { skip: isRoot && 'root ignores folder permissions' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  await appendToLedger(makeRecord(4, '2026-01-01T00:00:00.000Z'), dir);
  await writeFile(join(dir, 'bad.json'), '{');
  await chmod(dir, 0o555);
  try {
    const { records, problems } = await readLedger(dir);
    assert.equal(records.length, 1);
    assert.equal(problems.length, 1);
  } finally {
    await chmod(dir, 0o755);
  }
});

test('records of any shape are judged without throwing, and the reason is named', () => {
  const good = makeRecord(8, '2026-01-01T00:00:00.000Z');
  const { runs: _runs, ...withoutRuns } = good;
  const cases: Array<[unknown, RegExp]> = [
    [null, /not a JSON object/],
    [[1, 2], /kind/],
    [{ ...good, step: 99 }, /step 99 is not a step of the ladder \(1-9\)/],
    [{ ...good, reference: null }, /reference is null, but step 8 is one of the original's: it needs its seconds and accuracy/],
    [{ ...good, step: 2.5 }, /step 2.5/],
    [withoutRuns, /runs is missing or empty/],
    [{ ...good, runs: [] }, /runs is missing or empty/],
    [{ ...good, runs: [{ ...good.runs[0], seconds: 0 }] }, /seconds must be a finite number above 0, got 0/],
    [{ ...good, runs: [{ ...good.runs[0], seconds: null }] }, /seconds/],
    [{ ...good, runs: [{ ...good.runs[0], testAccuracy: 140 }] }, /testAccuracy/],
    [{ ...good, runs: [{ ...good.runs[0], partial: true }] }, /no run finished/],
    [{ ...good, machine: undefined }, /machine is missing/],
    [{ ...good, machine: { ...good.machine, cores: 'two' } }, /machine.cores/],
    [{ ...good, recipeHash: undefined }, /recipeHash is missing/],
    [{ ...good, date: 'yesterday' }, /not a date/],
    [{ ...good, threads: 0 }, /threads/],
    [{ ...good, reference: { ...good.reference, seconds: 0 } }, /reference.seconds must be above 0, got 0/],
    [{ ...good, reference: { ...good.reference, seconds: -1 } }, /reference.seconds must be above 0/],
    [{ ...good, reference: { ...good.reference, accuracy: 990 } }, /reference.accuracy must be a percentage, got 990/],
  ];
  for (const [value, reason] of cases) assert.match(recordProblem(value) ?? 'valid', reason);
  assert.equal(recordProblem(good), null);
  assert.equal(recordProblem({ ...good, threads: null }), null);
});

test('an invalid record is refused on write, and nothing is written', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  const bad = makeRecord(8, '2026-01-01T00:00:00.000Z', { runs: [{ seed: 1, seconds: Number.NaN, epochs: 1, testAccuracy: 99, validationAccuracy: null, partial: false }] });
  await assert.rejects(appendToLedger(bad, dir), /refusing to record an invalid result .*seconds must be a finite number above 0, got NaN/);
  assert.deepEqual(await readdir(dir), []);
});

test('an unwritable ledger fails naming the folder and --no-record', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'ledger-'));
  const file = join(parent, 'a-file');
  await writeFile(file, 'x');
  await assert.rejects(appendToLedger(makeRecord(8, '2026-01-01T00:00:00.000Z'), join(file, 'ledger')), (error: Error) => {
    assert.match(error.message, /cannot write the results ledger at .*a-file.*--no-record/);
    return true;
  });
});

test('user runs go to your ledger, quick runs to its quick folder, never to the reference', () => {
  const root = projectRoot();
  assert.equal(referenceLedgerDir(), join(root, 'results', 'reference'));
  assert.equal(recordingLedgerDir('full', {}), join(root, 'results', 'yours'));
  assert.equal(recordingLedgerDir('quick', {}), join(root, 'results', 'yours', 'quick'));
  assert.equal(userLedgerDir('full', { MNIST_SPEEDRUN_LEDGER: '/tmp/mine' }), '/tmp/mine');
  assert.equal(userLedgerDir('quick', { MNIST_SPEEDRUN_LEDGER: '/tmp/mine' }), join('/tmp/mine', 'quick'));
  assert.equal(recordingLedgerDir('full', { MNIST_SPEEDRUN_REFERENCE: '1' }), referenceLedgerDir());
  assert.equal(recordingLedgerDir('full', { MNIST_SPEEDRUN_REFERENCE: '0' }), join(root, 'results', 'yours'));
  assert.throws(() => recordingLedgerDir('quick', { MNIST_SPEEDRUN_REFERENCE: '1' }), /reference results, which are full runs: not with quick mode/);
  assert.equal(recordingLedgerDir('full', { MNIST_SPEEDRUN_REFERENCE: 'yes' }), referenceLedgerDir());
  assert.throws(() => recordingLedgerDir('full', { MNIST_SPEEDRUN_REFERENCE: 'maybe' }), /MNIST_SPEEDRUN_REFERENCE='maybe' is not allowed: use 1, true, yes or on/);
});

test('a quick record never sits in a full ledger folder', async () => {
  const base = await mkdtemp(join(tmpdir(), 'ledger-'));
  const env = { MNIST_SPEEDRUN_LEDGER: base };
  await appendToLedger(makeRecord(8, '2026-01-01T00:00:00.000Z', { quick: true }), recordingLedgerDir('quick', env));
  await appendToLedger(makeRecord(8, '2026-01-02T00:00:00.000Z'), recordingLedgerDir('full', env));
  const full = await readLedger(recordingLedgerDir('full', env));
  const quick = await readLedger(recordingLedgerDir('quick', env));
  assert.deepEqual(full.records.map((r) => r.quick), [false]);
  assert.deepEqual(quick.records.map((r) => r.quick), [true]);
});

test('your ledger folder is ignored by git, the reference folder is not', async () => {
  const ignore = (path: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const child = spawn('git', ['check-ignore', '-q', path], { cwd: projectRoot() });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code ?? -1));
    });
  assert.equal(await ignore('results/yours/2026-step08.json'), 0);
  assert.equal(await ignore('results/yours/quick/2026-step08.json'), 0);
  assert.equal(await ignore('results/reference/2026-step08.json'), 1);
});

test('comparisons take only records of the same machine, backend, threads, data, mode and recipe', () => {
  const records = [
    makeRecord(8, '2026-01-01T00:00:00.000Z', { device: 'old' }),
    makeRecord(1, '2026-01-02T00:00:00.000Z'),
    makeRecord(8, '2026-01-03T00:00:00.000Z', { device: 'new' }),
    makeRecord(8, '2026-01-04T00:00:00.000Z', { device: 'laptop', machine: LAPTOP }),
    makeRecord(8, '2026-01-05T00:00:00.000Z', { device: 'one thread', threads: 1 }),
    makeRecord(8, '2026-01-06T00:00:00.000Z', { device: 'cpu backend', backend: 'cpu', threads: null }),
    makeRecord(8, '2026-01-07T00:00:00.000Z', { device: 'quick', quick: true }),
    makeRecord(8, '2026-01-08T00:00:00.000Z', { device: 'other data', dataHash: 'data-fashion' }),
    makeRecord(8, '2026-01-09T00:00:00.000Z', { device: 'old recipe', recipeHash: 'recipe-8-before' }),
    makeRecord(8, '2026-01-10T00:00:00.000Z', { device: 'partial', partial: true }),
    makeRecord(4, '2026-01-11T00:00:00.000Z', { machine: { ...SERVER, loadAverage: 3.5, node: 'v24.1.0' } }),
  ];
  const like = makeRecord(8, '2026-02-01T00:00:00.000Z');
  const chosen = newestComparablePerStep(records, { like, recipeHashes: TEST_HASHES });
  assert.deepEqual(chosen.map((r) => [r.step, r.device]), [[1, 'test CPU'], [4, 'test CPU'], [8, 'new']]);
  const onLaptop = newestComparablePerStep(records, { like: { ...like, machine: LAPTOP }, recipeHashes: TEST_HASHES });
  assert.deepEqual(onLaptop.map((r) => r.device), ['laptop']);
  assert.equal(newestComparablePerStep(records, { like, recipeHashes: TEST_HASHES, includePartial: true }).at(-1)!.device, 'partial');
});

test('the committed reference ledger holds only valid full records', async () => {
  const dir = referenceLedgerDir();
  await mkdir(dir, { recursive: true });
  const { records, problems } = await readLedger(dir);
  assert.deepEqual(problems, []);
  assert.ok(records.every((r) => !r.quick && !r.partial), 'no quick or partial reference record');
});

test('a run of the real CLI records into your ledger and leaves git status as it was', async () => {
  const root = projectRoot();
  const status = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: root });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('exit', () => resolve(out));
    });
  const before = await status();
  const env = { ...process.env };
  delete env.MNIST_SPEEDRUN_LEDGER;
  delete env.MNIST_SPEEDRUN_REFERENCE;
  const quickDir = recordingLedgerDir('quick', env);
  const recordsBefore = new Set(await readdir(quickDir).catch(() => [] as string[]));
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start', '--quick', '--no-warm-up', '--backend', 'wasm'], {
      cwd: root,
      env: { ...env, MNIST_DIR: env.MNIST_DIR ?? join(root, '..', 'shared', 'data', 'mnist') },
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(err) : reject(new Error(`exit ${code}: ${err}`))));
  });
  const created = (await readdir(quickDir)).filter((name) => !recordsBefore.has(name));
  try {
    assert.equal(created.length, 1, 'one new record in results/yours/quick');
    assert.match(stderr, /recorded in results\/yours\/quick\//);
    assert.equal(await status(), before, 'git status is unchanged');
  } finally {
    for (const name of created) await rm(join(quickDir, name), { force: true });
  }
});

test('a record keeps the backend label, which names the wasm kernel build; records without one still read', async () => {
  const label = 'WebAssembly (XNNPACK + native kernels: relaxed SIMD, fused multiply-add)';
  const recipe = RECIPES[7]!;
  const run = {
    step: 8, slug: recipe.slug, net: recipe.net, seed: 1, backend: 'wasm', seconds: 9.5, epochs: 1, testAccuracy: 99.1, testLoss: 0.03,
    validationAccuracy: null, stoppedEarly: false, partial: false, history: [], batchLosses: [], learningRates: [],
  };
  const context = { machine: SERVER, source: 'cli' as const, mode: 'full' as const, dataHash: 'data-full' };
  const record = makeStepRecord(recipe, [run], { ...context, backend: { name: 'wasm', label, device: 'test CPU', threads: 2 } });
  assert.equal(record.backendLabel, label);
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  await appendToLedger(record, dir);
  assert.deepEqual((await readLedger(dir)).records.map((r) => r.backendLabel), [label]);
  const unlabelled = makeStepRecord(recipe, [run], { ...context, backend: { name: 'cpu', device: 'test CPU' } });
  assert.equal('backendLabel' in unlabelled, false);
  assert.equal(recordProblem(unlabelled), null);
  assert.equal(recordProblem({ ...record, backendLabel: 7 }), 'backendLabel is not text');
});
