import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readLedger } from '../lib/ledger';
import type { StepRecord } from '../lib/results';

// Interruptions through every launcher a user meets: the CLI itself, `npm start`, `npx tsx cli/main.ts`
// and the installed bin. Each run: quick step 8, two runs; the signal lands while run 2 trains, so
// run 1 has finished and must be in the ledger, the record marked partial. Quick records go to the
// ledger's quick/ folder (earlier versions wrote them to the ledger itself: both are read).

const MNIST_DIR = process.env.MNIST_DIR ?? '../shared/data/mnist';
const ARGS = ['--runs', '2', '--quick', '--no-warm-up', '--backend', 'wasm'];

const LAUNCHERS: Record<string, [string, string[]]> = {
  cli: [process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start', ...ARGS]],
  'npm start': ['npm', ['start', '--silent', '--', ...ARGS]],
  'npx tsx': ['npx', ['--no-install', 'tsx', 'cli/main.ts', 'start', ...ARGS]],
  bin: [process.execPath, ['bin/mnist-speedrun.js', 'start', ...ARGS]],
};

const EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

interface Interrupted {
  code: number | null;
  stdout: string;
  stderr: string;
  ledger: string;
  pid: number;
}

/** Starts `launcher` in a process group of its own; once run 2 trains, sends `signal` to the group (or to the launcher only). */
function interrupt(launcher: string, signal: NodeJS.Signals, target: 'group' | 'launcher'): Promise<Interrupted> {
  return mkdtemp(join(tmpdir(), 'ledger-')).then(
    (ledger) =>
      new Promise((resolve, reject) => {
        const [command, args] = LAUNCHERS[launcher]!;
        const child: ChildProcess = spawn(command, args, {
          env: { ...process.env, MNIST_DIR, MNIST_SPEEDRUN_BACKEND: '', MNIST_SPEEDRUN_LEDGER: ledger, MNIST_SPEEDRUN_QUICK: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        let stdout = '';
        let stderr = '';
        let sent = false;
        child.stderr!.on('data', (chunk: Buffer) => {
          stderr += chunk;
          if (!sent && /run 2\/2 \(seed 2\): training/.test(stderr)) {
            sent = true;
            process.kill(target === 'group' ? -child.pid! : child.pid!, signal);
          }
        });
        child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
        child.on('error', reject);
        // the status a shell reports: the exit code, or 128 + the signal's number (npm re-raises the signal on itself)
        child.on('close', (code, killedBy) => {
          const status = code ?? (killedBy === null ? null : 128 + constants.signals[killedBy]);
          resolve({ code: status, stdout, stderr, ledger, pid: child.pid! });
        });
      }),
  );
}

/** True while any process of group `pgid` is alive; waits up to `ms` for the group to empty. */
async function groupAlive(pgid: number, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return false;
    }
    if (Date.now() > until) {
      process.kill(-pgid, 'SIGKILL');
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function recordsIn(ledger: string): Promise<StepRecord[]> {
  const [top, quick] = await Promise.all([readLedger(ledger), readLedger(join(ledger, 'quick'))]);
  return [...top.records, ...quick.records];
}

async function assertSaved(outcome: Interrupted, signal: string, exitCode: number | null): Promise<void> {
  const { code, stderr, ledger, pid } = outcome;
  assert.equal(await groupAlive(pid), false, `a process of the group survived\n${stderr}`);
  if (exitCode !== null) assert.equal(code, exitCode, stderr);
  assert.match(stderr, new RegExp(`interrupted \\(${signal}|interrupted \\(the launching`));
  const records = await recordsIn(ledger);
  assert.equal(records.length, 1, stderr);
  const record = records[0]!;
  assert.equal(record.partial, true);
  assert.equal(record.runs[0]!.partial, false);
  assert.equal(record.runs[0]!.seed, 1);
  assert.ok(record.runs.length <= 2);
  if (record.runs.length === 2) assert.equal(record.runs[1]!.partial, true);
}

const cases: Array<[string, NodeJS.Signals]> = [
  ['cli', 'SIGINT'],
  ['cli', 'SIGTERM'],
  ['cli', 'SIGHUP'],
  ['npm start', 'SIGINT'],
  ['npm start', 'SIGTERM'],
  ['npx tsx', 'SIGINT'],
  ['npx tsx', 'SIGHUP'],
  ['bin', 'SIGINT'],
  ['bin', 'SIGTERM'],
];
for (const [launcher, signal] of cases) {
  test(`${signal} to the process group of '${launcher}' saves the finished run, marked partial, and exits ${EXIT[signal]}`, async () => {
    await assertSaved(await interrupt(launcher, signal, 'group'), signal, EXIT[signal]!);
  });
}

for (const launcher of ['npm start', 'npx tsx']) {
  test(`SIGTERM to the '${launcher}' process alone leaves no orphan training on and saves the finished run`, async () => {
    await assertSaved(await interrupt(launcher, 'SIGTERM', 'launcher'), 'SIGTERM', null);
  });
}

test('an interrupted run is recorded but not averaged into the summary', async () => {
  const outcome = await interrupt('cli', 'SIGINT', 'group');
  await assertSaved(outcome, 'SIGINT', 130);
  const records = await recordsIn(outcome.ledger);
  const runs = records[0]!.runs;
  assert.equal(runs.length, 2, outcome.stderr);
  const finished = runs[0]!;
  assert.equal(finished.epochs, 1);
  // start's summary line: the finished run's own epochs and accuracy, not an average with the aborted run
  const summary = /step 8 \(wasm\): ([\d.]+) s, (\S+) epochs?, test accuracy ([\d.]+)%/.exec(outcome.stdout);
  assert.ok(summary, outcome.stdout);
  assert.equal(summary[2], '1');
  assert.equal(summary[3], finished.testAccuracy!.toFixed(2));
  assert.equal(summary[1], finished.seconds.toFixed(2));
});
