import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { appendToLedger, latestPerStep, readLedger } from '../lib/ledger';
import { describeMachine } from '../lib/machine';
import type { StepRecord } from '../lib/results';
import { RECIPES } from '../lib/recipes';

function record(step: number, date: string, overrides: Partial<StepRecord> = {}): StepRecord {
  const recipe = RECIPES[step - 1]!;
  return {
    kind: 'step-result',
    version: 1,
    step,
    slug: recipe.slug,
    change: recipe.change,
    backend: 'wasm',
    device: 'test CPU',
    machine: describeMachine(),
    date,
    source: 'test',
    quick: false,
    partial: false,
    runs: [{ seed: 1, seconds: 10 - step, epochs: 1, testAccuracy: 99, validationAccuracy: null, partial: false }],
    reference: recipe.reference,
    ...overrides,
  };
}

test('a record written to the ledger reads back equal, and no temporary file is left', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  const written = record(3, '2026-01-01T00:00:00.000Z');
  await appendToLedger(written, dir);
  const { records, problems } = await readLedger(dir);
  assert.deepEqual(records, [written]);
  assert.deepEqual(problems, []);
  const names = await readdir(dir);
  assert.equal(names.filter((n) => n.endsWith('.tmp')).length, 0);
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
    import { describeMachine } from './lib/machine';
    import { RECIPES } from './lib/recipes';
    const r = RECIPES[7];
    const writes = [];
    for (let i = 0; i < ${perProcess}; i++) {
      writes.push(appendToLedger({ kind: 'step-result', version: 1, step: 8, slug: r.slug, change: r.change,
        backend: 'wasm', device: 'p' + process.pid, machine: describeMachine(), date: new Date().toISOString(),
        source: 'test', quick: false, partial: false, reference: r.reference,
        runs: [{ seed: i, seconds: 1, epochs: 1, testAccuracy: 99, validationAccuracy: null, partial: false }] }, ${JSON.stringify(dir)}));
    }
    await Promise.all(writes);
  `;
  const runOne = () =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'inherit' });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code ?? -1));
    });
  const codes = await Promise.all([runOne(), runOne()]);
  assert.deepEqual(codes, [0, 0]);
  const { records, problems } = await readLedger(dir);
  assert.equal(problems.length, 0);
  assert.equal(records.length, 2 * perProcess);
  assert.equal(new Set(records.map((r) => r.device)).size, 2);
});

test('a corrupt ledger file is reported and moved aside, never overwritten', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  await appendToLedger(record(1, '2026-01-01T00:00:00.000Z'), dir);
  const broken = join(dir, '2026-01-02-step02-half.json');
  await writeFile(broken, '{"kind":"step-result","version":1,"st');
  const wrongShape = join(dir, '2026-01-03-step02-other.json');
  await writeFile(wrongShape, JSON.stringify({ hello: 'world' }));
  const { records, problems } = await readLedger(dir);
  assert.equal(records.length, 1);
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /not a valid result record: moved aside to .*corrupt/);
  const aside = await readFile(join(dir, 'corrupt', '2026-01-02-step02-half.json'), 'utf8');
  assert.equal(aside, '{"kind":"step-result","version":1,"st');
  const again = await readLedger(dir);
  assert.deepEqual(again.problems, []);
  assert.equal(again.records.length, 1);
});

test('latestPerStep keeps the newest full record per step, in step order', () => {
  const records = [
    record(8, '2026-01-01T00:00:00.000Z', { device: 'old' }),
    record(1, '2026-01-02T00:00:00.000Z'),
    record(8, '2026-01-03T00:00:00.000Z', { device: 'new' }),
    record(8, '2026-01-04T00:00:00.000Z', { device: 'quick', quick: true }),
    record(8, '2026-01-05T00:00:00.000Z', { device: 'partial', partial: true }),
    record(4, '2026-01-06T00:00:00.000Z', { backend: 'cpu' }),
  ];
  const latest = latestPerStep(records, { backend: 'wasm' });
  assert.deepEqual(latest.map((r) => [r.step, r.device]), [[1, 'test CPU'], [8, 'new']]);
  assert.equal(latestPerStep(records, { includeQuick: true, includePartial: true }).find((r) => r.step === 8)!.device, 'partial');
});
