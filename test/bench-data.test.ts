/**
 * `npm run bench` without usable MNIST fails like the CLI: the same one-line `error:` message and
 * exit code 3, before any training, and no results file claiming a result.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { FASHION_DIR, fashionSkip, GZ_NAMES, mnistDir } from './mnist-layouts';
import { spawnOutcome, type Outcome } from './spawn-outcome';
import { tempDirFactory } from './temp-dirs';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const tempDir = tempDirFactory('mnist-bench-data-test-');

function benchFiles(): string[] {
  const dir = path.join(repoRoot, 'results');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.startsWith('bench-')) : [];
}

/** The bench as `npm run bench -- --quick --no-pytorch` runs it, the cache in a temp folder, no mirror reachable. */
function bench(env: NodeJS.ProcessEnv): Promise<Outcome> {
  const { MNIST_DIR: _ignored, ...base } = process.env;
  return spawnOutcome(process.execPath, ['--import', 'tsx', 'bench/bench.ts', '--quick', '--no-pytorch'], {
    cwd: repoRoot,
    env: { ...base, XDG_CACHE_HOME: tempDir(), MNIST_SPEEDRUN_MIRRORS: 'http://127.0.0.1:1/', ...env },
  });
}

/** Exit code 3, exactly one stderr line `error: ...` with no stack, nothing measured or written. */
async function failsLikeTheCli(env: NodeJS.ProcessEnv): Promise<string> {
  const before = benchFiles();
  const outcome = await bench(env);
  assert.equal(outcome.code, 3, outcome.stderr);
  const lines = outcome.stderr.trim().split('\n');
  assert.equal(lines.length, 1, outcome.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.doesNotMatch(outcome.stdout, /ms\/step|step 08|side by side|written/, 'stopped before training');
  assert.deepEqual(benchFiles(), before, 'no results file');
  return lines[0]!;
}

describe('npm run bench without usable MNIST', { timeout: 120_000 }, () => {
  it('MNIST_DIR naming an empty folder: exit 3, naming the folder and the files', async () => {
    const empty = tempDir();
    const line = await failsLikeTheCli({ MNIST_DIR: empty });
    assert.ok(line.includes(empty), line);
    assert.ok(line.includes(GZ_NAMES[0]), line);
  });

  it('no MNIST_DIR, an empty cache and no mirror reachable: exit 3, saying where to put the files', async () => {
    const line = await failsLikeTheCli({});
    assert.match(line, /could not be downloaded/);
    assert.match(line, /MNIST_DIR/);
  });

  it('MNIST_DIR naming a file: exit 3, saying a folder is expected', async () => {
    const line = await failsLikeTheCli({ MNIST_DIR: path.join(mnistDir, GZ_NAMES[0]) });
    assert.match(line, /MNIST_DIR='.*' is not allowed: it is a file/);
    assert.match(line, /use a folder holding the four MNIST files/);
  });

  it('MNIST_DIR naming Fashion-MNIST: exit 3, never a null result', { skip: fashionSkip }, async () => {
    const line = await failsLikeTheCli({ MNIST_DIR: FASHION_DIR });
    assert.match(line, /another dataset such as Fashion-MNIST/);
  });
});
