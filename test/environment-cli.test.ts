/**
 * Bad settings as a user meets them: every environment variable with a value its rule refuses,
 * through the real CLI, the bench and a notebook's startSession. Each must stop before any work
 * (no backend chosen, no data read, no training, nothing written) with exactly one stderr line that
 * names the variable, the value and the allowed values, and the README's exit code. And the
 * settings that must NOT stop a run: a preprocessed cache that cannot be written (one warning, the
 * run finishes from memory) and a read-only MNIST folder.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LedgerError, UsageError } from '../lib/errors';
import { mnistDir, sameFiles, snapshot, writeOriginal } from './mnist-layouts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const isRoot = process.getuid?.() === 0;
const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'environment-cli-test-'));
after(() => {
  fs.chmodSync(tempRoot, 0o755);
  fs.rmSync(tempRoot, { recursive: true, force: true });
});
let tempCount = 0;
function tempDir(): string {
  const dir = path.join(tempRoot, String(tempCount++));
  fs.mkdirSync(dir);
  return dir;
}
const aFile = path.join(tempRoot, 'a-file');
fs.writeFileSync(aFile, 'a regular file');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The parent's environment without any MNIST_SPEEDRUN_ setting, MNIST from the test data, the
 * cache in a fresh folder and downloads pointed at a port nothing listens on; then `env`.
 */
function userEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MNIST_SPEEDRUN_')));
  return { ...clean, MNIST_DIR: mnistDir, XDG_CACHE_HOME: tempDir(), MNIST_SPEEDRUN_MIRRORS: 'http://127.0.0.1:1/', ...env };
}

function run(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: repoRoot, env: userEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    // a setting that should be refused at once but is not would train: stop it, do not wait
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const TRAIN = ['train', '--step', '8', '--quick', '--no-warm-up', '--no-record'];

/** Exactly one stderr line, `error: NAME='value' is not allowed: ...`, and nothing on stdout. */
function refusedLine(outcome: Outcome, name: string, value: string): string {
  const lines = outcome.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line (no backend chosen, no training), got:\n${outcome.stderr}`);
  assert.equal(outcome.stdout, '');
  const line = lines[0]!;
  assert.ok(line.startsWith(`error: ${name}='${value}' is not allowed: `), line);
  assert.match(line, /, or unset it$/);
  return line;
}

// [variable, bad value, exit code, the allowed values the line must name]
const badSettings: Array<[string, string, number, RegExp]> = [
  ['MNIST_DIR', path.join(tempRoot, 'no-such-folder'), 3, /it does not exist; use a folder holding the four MNIST files train-images-idx3-ubyte\.gz, train-labels-idx1-ubyte\.gz, t10k-images-idx3-ubyte\.gz, t10k-labels-idx1-ubyte\.gz/],
  ['MNIST_SPEEDRUN_MIRRORS', 'ftp://example.org/mnist/', 2, /'ftp:\/\/example\.org\/mnist\/' is not an http\(s\) URL; use http\(s\) base URLs separated by spaces or commas, .*or set it empty to never download/],
  ['MNIST_SPEEDRUN_BACKEND', 'tpu', 2, /use auto, tensorflow, webgpu, wasm or cpu, or unset it$/],
  ['MNIST_SPEEDRUN_BACKEND', 'WASM', 2, /use auto, tensorflow, webgpu, wasm or cpu, or unset it$/],
  ['MNIST_SPEEDRUN_WASM_THREADS', 'abc', 2, /use auto \(every core\) or a whole number of threads from 0/],
  ['MNIST_SPEEDRUN_WASM_THREADS', '-1', 2, /use auto \(every core\) or a whole number of threads from 0/],
  ['MNIST_SPEEDRUN_QUICK', 'abc', 2, /use 1, true, yes or on \(quick mode.*\), or 0, false, no or off, or unset it$/],
  ['MNIST_SPEEDRUN_QUICK', '2', 2, /use 1, true, yes or on \(quick mode.*\), or 0, false, no or off, or unset it$/],
  ['MNIST_SPEEDRUN_LEDGER', aFile, 2, /it is a file; use a folder for your ledger \(created if missing/],
  ['MNIST_SPEEDRUN_REFERENCE', 'maybe', 2, /use 1, true, yes or on \(re-record the committed reference results.*\), or 0, false, no or off/],
  ['MNIST_SPEEDRUN_FONT', path.join(tempRoot, 'no-font.ttf'), 2, /it does not exist; use a readable TrueType or OpenType font file/],
  ['MNIST_SPEEDRUN_FONT', aFile, 2, /it is not a TrueType or OpenType font/],
  ['MNIST_SPEEDRUN_DEBUG', 'verbose', 2, /use 1, true, yes or on \(print the stack trace.*\), or 0, false, no or off, or unset it$/],
  ['MNIST_SPEEDRUN_QUIK', '1', 2, /no setting of that name \(did you mean MNIST_SPEEDRUN_QUICK\?\); use one of MNIST_SPEEDRUN_MIRRORS, /],
];

describe('the CLI refuses a bad setting before any work, in one line naming it', () => {
  test('the command used below trains when no setting is bad; an empty setting is the same as unset', async () => {
    const empty = { MNIST_SPEEDRUN_QUICK: '', MNIST_SPEEDRUN_BACKEND: '', MNIST_SPEEDRUN_WASM_THREADS: '', MNIST_SPEEDRUN_DEBUG: '', MNIST_SPEEDRUN_FONT: '', MNIST_SPEEDRUN_LEDGER: '' };
    const outcome = await run('cli/main.ts', TRAIN, empty, 180_000);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stderr, /finished in/);
  });

  for (const [name, value, code, allowed] of badSettings) {
    test(`${name}='${value}': exit ${code}`, async () => {
      const outcome = await run('cli/main.ts', TRAIN, { [name]: value }, 60_000);
      assert.equal(outcome.code, code, outcome.stderr);
      assert.match(refusedLine(outcome, name, value), allowed);
    });
  }

  test('an invalid MNIST_SPEEDRUN_BACKEND is refused even beside --backend, never a reason to run another backend', async () => {
    const outcome = await run('cli/main.ts', [...TRAIN, '--backend', 'wasm'], { MNIST_SPEEDRUN_BACKEND: 'wsam' }, 60_000);
    assert.equal(outcome.code, 2, outcome.stderr);
    refusedLine(outcome, 'MNIST_SPEEDRUN_BACKEND', 'wsam');
  });

  test('MNIST_SPEEDRUN_REFERENCE=1 with --quick is refused before any work, with --no-record too', async () => {
    const outcome = await run('cli/main.ts', TRAIN, { MNIST_SPEEDRUN_REFERENCE: '1' }, 60_000);
    assert.equal(outcome.code, 2, outcome.stderr);
    assert.equal(outcome.stderr.trim().split('\n').length, 1, outcome.stderr);
    assert.match(outcome.stderr, /^error: MNIST_SPEEDRUN_REFERENCE=1 records reference results, which are full runs: not with quick mode; unset MNIST_SPEEDRUN_REFERENCE, or drop --quick, MNIST_SPEEDRUN_QUICK and MNIST_SPEEDRUN_MODE=quick$/m);
  });

});

/** The bench's results files, to check that a refused bench writes none. */
function benchFiles(): string[] {
  const dir = path.join(repoRoot, 'results');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.startsWith('bench-')) : [];
}

describe('the bench refuses a bad setting or flag before anything is timed', () => {
  test("MNIST_SPEEDRUN_WASM_THREADS='abc': exit 2, one line, no results file", async () => {
    const before = benchFiles();
    const outcome = await run('bench/bench.ts', ['--quick', '--no-pytorch'], { MNIST_SPEEDRUN_WASM_THREADS: 'abc' }, 60_000);
    assert.equal(outcome.code, 2, outcome.stderr);
    assert.match(refusedLine(outcome, 'MNIST_SPEEDRUN_WASM_THREADS', 'abc'), /use auto \(every core\) or a whole number/);
    assert.deepEqual(benchFiles(), before);
  });

  test('a misspelt flag (--quik) is refused, not ignored into a full bench', async () => {
    const before = benchFiles();
    const outcome = await run('bench/bench.ts', ['--quik', '--no-pytorch'], { MNIST_DIR: tempDir() }, 60_000);
    assert.equal(outcome.code, 2, outcome.stderr);
    assert.equal(outcome.stderr.trim(), "error: unknown bench option '--quik' (did you mean --quick?): use --quick, --cpu, --no-step08, --no-pytorch, --save, --steps LIST, --rounds N or --node=PATH");
    assert.deepEqual(benchFiles(), before);
  });
});

test("a notebook's startSession refuses a bad setting before it starts a backend or reads MNIST", async () => {
  const { startSession } = await import('../lib/notebook');
  const font = path.join(tempRoot, 'missing-font.ttf');
  const before = process.env.MNIST_SPEEDRUN_FONT;
  process.env.MNIST_SPEEDRUN_FONT = font;
  try {
    // before the check, this setting was met only at the first chart, after the training
    await assert.rejects(startSession({ dataDir: path.join(tempRoot, 'no-mnist-here') }), (error: unknown) =>
      error instanceof UsageError && error.message.startsWith(`MNIST_SPEEDRUN_FONT='${font}' is not allowed: it does not exist`));
  } finally {
    if (before === undefined) delete process.env.MNIST_SPEEDRUN_FONT;
    else process.env.MNIST_SPEEDRUN_FONT = before;
  }
});

test("a notebook's startSession refuses a ledger it cannot write before it starts a backend or trains", async () => {
  const { startSession } = await import('../lib/notebook');
  const ledger = path.join(aFile, 'ledger');
  const before = process.env.MNIST_SPEEDRUN_LEDGER;
  process.env.MNIST_SPEEDRUN_LEDGER = ledger;
  try {
    // before the check, the first step trained for minutes and then failed to record
    await assert.rejects(startSession({ dataDir: path.join(tempRoot, 'no-mnist-here') }), (error: unknown) =>
      error instanceof LedgerError && error.exitCode === 6 &&
      error.message === `cannot write the results ledger folder ${ledger} (ENOTDIR): fix its permissions or set MNIST_SPEEDRUN_LEDGER to a writable folder`);
  } finally {
    if (before === undefined) delete process.env.MNIST_SPEEDRUN_LEDGER;
    else process.env.MNIST_SPEEDRUN_LEDGER = before;
  }
});

describe('what must not stop a run', () => {
  /** A full (not quick) step 8 run, so the preprocessed cache file is used. */
  const FULL = ['train', '--step', '8', '--runs', '2', '--no-warm-up', '--no-record', '--backend', 'wasm'];

  async function trainsWithOneCacheWarning(cacheHome: string): Promise<void> {
    const outcome = await run('cli/main.ts', FULL, { XDG_CACHE_HOME: cacheHome }, 400_000);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stderr.match(/finished in/g)?.length, 2, outcome.stderr);
    const warnings = outcome.stderr.split('\n').filter((line) => /warn/i.test(line));
    const cacheFile = path.join(cacheHome, 'mnist-speedrun', 'mnist-normalised-v2.bin');
    assert.equal(warnings.length, 1, `one warning for both runs, got:\n${outcome.stderr}`);
    assert.ok(warnings[0]!.startsWith(`warning: cannot write the preprocessed cache ${cacheFile} (`), warnings[0]);
    assert.match(warnings[0]!, /training from memory$/);
  }

  test('XDG_CACHE_HOME under a regular file: both runs finish from memory, with one warning naming the cache file', { timeout: 420_000 }, async () => {
    await trainsWithOneCacheWarning(path.join(aFile, 'cache'));
  });

  test('a read-only XDG_CACHE_HOME: the same', { timeout: 420_000, skip: isRoot && 'root writes into read-only folders' }, async () => {
    const home = tempDir();
    fs.chmodSync(home, 0o555);
    try {
      await trainsWithOneCacheWarning(home);
    } finally {
      fs.chmodSync(home, 0o755);
    }
  });

  test('a read-only MNIST folder trains, and nothing in it is added, changed or removed', { timeout: 200_000 }, async () => {
    const dir = writeOriginal(tempDir());
    for (const name of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, name), 0o444);
    fs.chmodSync(dir, 0o555);
    const before = snapshot(dir);
    try {
      const outcome = await run('cli/main.ts', TRAIN, { MNIST_DIR: dir }, 180_000);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.doesNotMatch(outcome.stderr, /warning/);
      assert.ok(sameFiles(dir, before), 'the MNIST folder changed');
    } finally {
      fs.chmodSync(dir, 0o755);
    }
  });
});

describe('--data is checked before any work too, like MNIST_DIR', () => {
  test('--data naming a file: exit 3 in one line, before a backend is chosen', async () => {
    const outcome = await run('cli/main.ts', [...TRAIN, '--data', aFile], {}, 60_000);
    assert.equal(outcome.code, 3, outcome.stderr);
    assert.equal(outcome.stderr.trim().split('\n').length, 1, `expected one line (no backend chosen), got:\n${outcome.stderr}`);
    assert.match(outcome.stderr, /^error: --data .* is a file; a folder is expected/);
  });

  test("an empty --data is refused with exit 2, not taken for a folder named ''", async () => {
    const outcome = await run('cli/main.ts', [...TRAIN, '--data='], {}, 60_000);
    assert.equal(outcome.code, 2, outcome.stderr);
    assert.equal(outcome.stderr.trim(), "error: --data needs a folder holding MNIST, got ''; give the folder, or leave --data out to use MNIST_DIR or the cache");
  });
});
