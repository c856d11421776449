/**
 * MNIST's forms and faults as a user meets them through the real CLI: exit code, the one-line
 * `error:` message on stderr, and the user's files left as they were.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  FASHION_DIR,
  fashionSkip,
  GZ_NAMES,
  mnistDir,
  sameFiles,
  snapshot,
  writeOriginal,
  writeRegzipped,
  writeTorchvisionTree,
  writeUncompressed,
} from './mnist-layouts';
import { tempDirFactory } from './temp-dirs';

const tempDir = tempDirFactory('mnist-data-cli-test-');

interface Outcome {
  code: number | null;
  stderr: string;
}

/**
 * `train --step 8 --quick` as a user runs it: no MNIST_DIR unless given, the cache in a temp
 * XDG_CACHE_HOME, downloads pointed at a loopback port nothing listens on.
 */
function train(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  const { MNIST_DIR: _ignored, ...base } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', 'train', '--step', '8', '--runs', '1', '--no-warm-up', '--no-record', '--quick', '--backend', 'wasm', ...args],
      {
        env: { ...base, MNIST_SPEEDRUN_BACKEND: '', XDG_CACHE_HOME: tempDir(), MNIST_SPEEDRUN_MIRRORS: 'http://127.0.0.1:1/', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The one `error:` line, asserting there is exactly one and no stack trace. */
function errorLine(outcome: Outcome): string {
  const lines = outcome.stderr.trim().split('\n').filter((line) => line.startsWith('error:'));
  assert.equal(lines.length, 1, outcome.stderr);
  assert.doesNotMatch(outcome.stderr, /^\s+at /m, 'no stack trace');
  return lines[0]!;
}

describe('the CLI reads MNIST in every common form', () => {
  it('trains from torchvision MNIST/raw given the parent folder with --data', async () => {
    const root = writeTorchvisionTree(tempDir());
    const outcome = await train(['--data', root]);
    assert.equal(outcome.code, 0, outcome.stderr);
  });

  it('trains from un-gzipped files named by MNIST_DIR', async () => {
    const dir = writeUncompressed(tempDir());
    const outcome = await train([], { MNIST_DIR: dir });
    assert.equal(outcome.code, 0, outcome.stderr);
  });

  it('trains from re-gzipped files the user put in the cache folder, and leaves them there', async () => {
    const cacheHome = tempDir();
    const cacheDir = writeRegzipped(path.join(cacheHome, 'mnist-speedrun'));
    const before = snapshot(cacheDir);
    const outcome = await train([], { XDG_CACHE_HOME: cacheHome });
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.ok(sameFiles(cacheDir, before), `files in ${cacheDir} unchanged: ${fs.readdirSync(cacheDir).join(', ')}`);
  });

  it('cleans a dead writer\'s temporary file from the cache folder', async () => {
    const cacheHome = tempDir();
    const cacheDir = path.join(cacheHome, 'mnist-speedrun');
    fs.mkdirSync(cacheDir);
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = `mnist-normalised-v1.bin.${deadPid}.k1lled00.tmp`;
    fs.writeFileSync(path.join(cacheDir, stale), Buffer.alloc(1024));
    const outcome = await train(['--data', mnistDir], { XDG_CACHE_HOME: cacheHome });
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.ok(!fs.existsSync(path.join(cacheDir, stale)), 'stale temporary file removed');
  });
});

describe('the CLI refuses what is not MNIST, with exit code 3 and one line', () => {
  it('--data naming a file says it is a file and a folder is expected', async () => {
    const file = path.join(mnistDir, GZ_NAMES[0]);
    const outcome = await train(['--data', file]);
    assert.equal(outcome.code, 3, outcome.stderr);
    const line = errorLine(outcome);
    assert.ok(line.includes(file), line);
    assert.match(line, /--data/);
    assert.match(line, /is a file/);
    assert.match(line, /folder is expected/);
    assert.doesNotMatch(line, /does not exist|dir option/);
  });

  it('MNIST_DIR naming a file names MNIST_DIR', async () => {
    const file = path.join(mnistDir, GZ_NAMES[0]);
    const outcome = await train([], { MNIST_DIR: file });
    assert.equal(outcome.code, 3, outcome.stderr);
    const line = errorLine(outcome);
    assert.match(line, /MNIST_DIR/);
    assert.match(line, /is a file/);
  });

  it('a damaged file in the cache folder is named and left in place', async () => {
    const cacheHome = tempDir();
    const cacheDir = writeOriginal(path.join(cacheHome, 'mnist-speedrun'));
    const damaged = path.join(cacheDir, GZ_NAMES[1]);
    fs.writeFileSync(damaged, fs.readFileSync(damaged).subarray(0, 1000));
    const before = snapshot(cacheDir);
    const outcome = await train([], { XDG_CACHE_HOME: cacheHome });
    assert.equal(outcome.code, 3, outcome.stderr);
    assert.ok(errorLine(outcome).includes(damaged), outcome.stderr);
    assert.ok(sameFiles(cacheDir, before), 'nothing deleted');
  });

  it('Fashion-MNIST from --data, un-gzipped, or in the cache folder', { skip: fashionSkip }, async () => {
    const uncompressed = writeUncompressed(tempDir(), undefined, FASHION_DIR);
    for (const args of [['--data', FASHION_DIR], ['--data', uncompressed]]) {
      const outcome = await train(args);
      assert.equal(outcome.code, 3, outcome.stderr);
      assert.match(errorLine(outcome), /another dataset such as Fashion-MNIST/);
    }
    const cacheHome = tempDir();
    const cacheDir = writeOriginal(path.join(cacheHome, 'mnist-speedrun'), FASHION_DIR);
    const before = snapshot(cacheDir);
    const outcome = await train([], { XDG_CACHE_HOME: cacheHome });
    assert.equal(outcome.code, 3, outcome.stderr);
    assert.match(errorLine(outcome), /another dataset such as Fashion-MNIST/);
    assert.ok(sameFiles(cacheDir, before), 'the user\'s files are still there, unchanged');
  });

  it('no MNIST anywhere and no mirror reachable fails fast, saying where to put the files', async () => {
    const started = Date.now();
    const outcome = await train([]);
    assert.equal(outcome.code, 3, outcome.stderr);
    assert.match(errorLine(outcome), /could not be downloaded.*127\.0\.0\.1:1.*MNIST_DIR/);
    assert.ok(Date.now() - started < 20_000, 'no long wait');
  });
});
