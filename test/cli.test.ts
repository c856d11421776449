import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readLedger } from '../lib/ledger';
import type { StepRecord } from '../lib/results';
import { cli } from './run-cli';

const MNIST_DIR = process.env.MNIST_DIR ?? '../shared/data/mnist';

/** The records of a ledger folder, quick ones (kept in its quick/ folder) included. */
async function recordsIn(ledger: string): Promise<StepRecord[]> {
  const [top, quick] = await Promise.all([readLedger(ledger), readLedger(join(ledger, 'quick'))]);
  return [...top.records, ...quick.records];
}

const usageCases: Array<[string[], RegExp]> = [
  [['fly'], /unknown command 'fly': commands are start, train, ladder, try, sweep, backends, doctor, help/],
  [['trian', '--step', '8'], /unknown command 'trian' \(did you mean train\?\)/],
  [['train', '--bogus'], /unknown option '--bogus' \(see --help\)/],
  [['train', '--step', '8', '--run', '2'], /unknown option '--run' \(did you mean --runs\?\)/],
  [['train', '--step', '8', '--sede', '2'], /unknown option '--sede' \(did you mean --seed\?\)/],
  [['train'], /train needs --step N \(steps are 1-9\)/],
  [['train', '--step', '10'], /out of range: steps are 1-9/],
  [['try', '--from', '10', '--set', 'batchSize=512'], /out of range: steps are 1-9/],
  [['ladder', '--steps', '1-10'], /out of range: steps are 1-9/],
  [['ladder', '--step', '8'], /ladder takes --steps LIST, not --step; use train --step 8/],
  [['train', '--steps', '4-8'], /train takes --step N, not --steps; use ladder --steps 4-8/],
  [['start', '--step', '4'], /start takes no --step/],
  [['train', '--step', '8', '--runs', '0'], /--runs must be a whole number from 1 to 1,000 in decimal digits, got '0'/],
  [['train', '--step', '8', '--runs', 'many'], /--runs must be a whole number from 1 to 1,000 in decimal digits, got 'many'/],
  [['train', '--step', '8', '--runs', '0x10'], /--runs must be a whole number .* got '0x10'/],
  [['train', '--step', '8', '--runs', '1e1'], /--runs must be a whole number .* got '1e1'/],
  [['train', '--step', '8', '--runs', '-1'], /--runs must be a whole number from 1 to 1,000 in decimal digits, got '-1'/],
  [['train', '--step', '8', '--runs'], /--runs needs a value/],
  [['train', '--step', '8', '--quick=yes'], /--quick takes no value/],
  [['ladder', '--steps', '3-1'], /out of range/],
  [['train', '--step', '8', '--seed', '1.5'], /--seed must be a whole number from 0 to 9,007,199,254,740,991 in decimal digits, got '1.5'/],
  [['train', '--step', '8', '--seed', '-3'], /--seed must be a whole number from 0 to 9,007,199,254,740,991 in decimal digits, got '-3'/],
  [['train', '--step', '8', '--seed', '9007199254740993'], /--seed must be a whole number from 0 to 9,007,199,254,740,991/],
  [['train', '--step', '8', '--runs', '3', '--seed', '9007199254740990'], /--seed must be a whole number from 0 to 9,007,199,254,740,989 .*run i uses seed\+i/],
  [['train', '--step', '8', '--quick', '--validation'], /--quick and --validation cannot be combined/],
  [['train', '--step', '8', '--validation-size', '60000'], /--validation-size must be a whole number from 1 to 59,999/],
  [['train', '--step', '8', '--backend', 'tpu'], /unknown backend 'tpu': use one of auto, tensorflow, webgpu, wasm, cpu/],
];
for (const [args, message] of usageCases) {
  test(`'${args.join(' ')}' is refused with exit code 2 and a one-line reason`, async () => {
    const { code, stderr } = await cli(args, { MNIST_SPEEDRUN_QUICK: '' }, undefined, 20_000);
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
  });
}

test('an explicitly requested native backend that is not installed fails with the install command (exit 4)', async () => {
  const { code, stderr } = await cli(['train', '--step', '8', '--backend', 'tensorflow']);
  assert.equal(code, 4, stderr);
  assert.match(stderr, /npm install @tensorflow\/tfjs-node/);
});

test('a data folder without MNIST fails with exit code 3 naming the folder', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'no-mnist-'));
  const { code, stderr } = await cli(['train', '--step', '8', '--backend', 'wasm', '--data', empty]);
  assert.equal(code, 3, stderr);
  assert.ok(stderr.includes(empty), stderr);
});

test('train --json prints one JSON line per finished run and records the step in the ledger', async () => {
  const ledger = await mkdtemp(join(tmpdir(), 'ledger-'));
  const { code, stdout, stderr } = await cli(
    ['train', '--step', '8', '--runs', '2', '--seed', '5', '--quick', '--json', '--no-warm-up', '--backend', 'wasm'],
    { MNIST_SPEEDRUN_LEDGER: ledger },
  );
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map((l) => l.seed), [5, 6]);
  for (const line of lines) {
    assert.equal(line.step, 8);
    assert.equal(line.backend, 'wasm');
    assert.equal(line.epochs, 1);
    assert.equal(typeof line.seconds, 'number');
    assert.ok((line.testAccuracy as number) > 20, `accuracy ${line.testAccuracy}`);
  }
  assert.match(stderr, /wasm: /);
  const records = await recordsIn(ledger);
  assert.equal(records.length, 1);
  assert.equal(records[0]!.quick, true);
  assert.deepEqual(records[0]!.runs.map((r) => r.seed), [5, 6]);
});

test('Ctrl-C during the only run ends it at the next batch and exits 130; nothing partial is passed off as finished', async () => {
  const ledger = await mkdtemp(join(tmpdir(), 'ledger-'));
  let sent = false;
  const { code, stderr } = await cli(
    ['train', '--step', '1', '--quick', '--no-warm-up', '--backend', 'wasm'],
    { MNIST_SPEEDRUN_LEDGER: ledger },
    (text, interrupt) => {
      if (!sent && text.includes('training')) {
        sent = true;
        setTimeout(interrupt, 1500);
      }
    },
  );
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupted \(SIGINT\): stopping at the next batch and saving the finished runs/);
  assert.match(stderr, /run 1\/1 \(seed 1\): interrupted after [\d.]+ s \(partial\)/);
  // with no finished run there may be no record; any record written is marked partial
  const records = await recordsIn(ledger);
  assert.ok(records.every((record) => record.partial && record.runs.every((run) => run.partial)), JSON.stringify(records));
});

test('a second, different signal during the save waits for it: the finished run is saved and the first signal decides the exit code', async () => {
  const ledger = await mkdtemp(join(tmpdir(), 'ledger-'));
  let sent = false;
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start', '--runs', '2', '--quick', '--no-warm-up', '--backend', 'wasm'], {
    env: { ...process.env, MNIST_DIR, MNIST_SPEEDRUN_BACKEND: '', MNIST_SPEEDRUN_QUICK: '', MNIST_SPEEDRUN_LEDGER: ledger },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
    if (!sent && stderr.includes('run 2/2 (seed 2): training')) {
      sent = true;
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGTERM'), 20);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  const records = await recordsIn(ledger);
  assert.equal(records.length, 1, stderr);
  assert.equal(records[0]!.partial, true);
  assert.equal(records[0]!.runs[0]!.partial, false);
});

test('quick mode caps the runs at 2 and says so', async () => {
  const { code, stdout, stderr } = await cli(['train', '--step', '8', '--runs', '5', '--quick', '--json', '--no-warm-up', '--no-record', '--backend', 'wasm']);
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim().split('\n').length, 2, stdout);
  assert.match(stderr, /quick mode: --runs 5 capped at 2/);
});

for (const value of ['0', '', 'false']) {
  test(`MNIST_SPEEDRUN_DEBUG='${value}' prints no stack trace`, async () => {
    const { code, stderr } = await cli(['train', '--step', '8', '--runs', '0'], { MNIST_SPEEDRUN_DEBUG: value });
    assert.equal(code, 2, stderr);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
  });
}

test('MNIST_SPEEDRUN_DEBUG=1 prints the stack trace', async () => {
  const { code, stderr } = await cli(['train', '--step', '8', '--runs', '0'], { MNIST_SPEEDRUN_DEBUG: '1' });
  assert.equal(code, 2, stderr);
  assert.match(stderr, /\n\s+at /);
});

test('an unwritable ledger folder fails at once with exit 6, naming it and suggesting --no-record', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  await writeFile(join(dir, 'a-file'), '');
  const ledger = join(dir, 'a-file', 'ledger');
  const { code, stderr } = await cli(['ladder', '--steps', '7-8', '--quick', '--no-warm-up', '--backend', 'wasm'], { MNIST_SPEEDRUN_LEDGER: ledger }, undefined, 30_000);
  assert.equal(code, 6, stderr);
  assert.ok(stderr.includes(join(dir, 'a-file')), stderr);
  assert.match(stderr, /--no-record/);
  assert.doesNotMatch(stderr, /training/, 'nothing may be trained before the ledger is known to be writable');
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
});

test('--no-record runs without touching an unwritable ledger', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
  await writeFile(join(dir, 'a-file'), '');
  const { code, stderr } = await cli(['train', '--step', '8', '--quick', '--no-warm-up', '--no-record', '--backend', 'wasm'], {
    MNIST_SPEEDRUN_LEDGER: join(dir, 'a-file', 'ledger'),
  });
  assert.equal(code, 0, stderr);
});
