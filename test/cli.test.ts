import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readLedger } from '../lib/ledger';

const MNIST_DIR = process.env.MNIST_DIR ?? '../shared/data/mnist';

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a user would; `onStderr` may act on the process (e.g. send Ctrl-C). */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, onStderr?: (text: string, kill: () => void) => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      env: { ...process.env, MNIST_DIR, MNIST_SPEEDRUN_BACKEND: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
      onStderr?.(stderr, () => child.kill('SIGINT'));
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const usageCases: Array<[string[], RegExp]> = [
  [['fly'], /unknown command 'fly': commands are start, train, ladder, backends, help/],
  [['train', '--bogus'], /Unknown option '--bogus'/],
  [['train'], /train needs --step N \(steps are 1-8\)/],
  [['train', '--step', '9'], /out of range: steps are 1-8/],
  [['train', '--step', '8', '--runs', '0'], /--runs must be a positive integer, got 0/],
  [['train', '--step', '8', '--runs', 'many'], /--runs must be a number, got 'many'/],
  [['ladder', '--steps', '3-1'], /out of range/],
  [['train', '--step', '8', '--seed', '1.5'], /--seed must be a non-negative integer, got '1.5'/],
  [['train', '--step', '8', '--backend', 'tpu'], /unknown backend 'tpu': use one of auto, tensorflow, webgpu, wasm, cpu/],
];
for (const [args, message] of usageCases) {
  test(`'${args.join(' ')}' is refused with exit code 2 and a one-line reason`, async () => {
    const { code, stderr } = await cli(args);
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
  const { records } = await readLedger(ledger);
  assert.equal(records.length, 1);
  assert.equal(records[0]!.quick, true);
  assert.deepEqual(records[0]!.runs.map((r) => r.seed), [5, 6]);
});

test('Ctrl-C during a run ends it promptly, saves the partial result and exits 130', async () => {
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
  assert.match(stderr, /interrupted: saving partial results/);
  const { records } = await readLedger(ledger);
  assert.equal(records.length, 1);
  assert.equal(records[0]!.partial, true);
  assert.equal(records[0]!.runs[0]!.partial, true);
});
