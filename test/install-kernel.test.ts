/**
 * `npm run kernel` (tools/install-kernel.ts): registers the tslab kernel so that it starts this
 * project's tslab by its absolute path, found with a Python that has Jupyter even when `python3`
 * on PATH has none, and says exactly what to install when no Python has it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../lib/project-root';
import { tslabBinary } from '../lib/tslab-kernel';
import { cleanEnv, pythonWithoutJupyter, setupSkipReason } from './setup-env';

const root = projectRoot();
const skip = setupSkipReason();

function installKernel(args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'tools', 'install-kernel.ts'), ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('with python3 on PATH lacking Jupyter, the kernel is registered with a Python that has it, by absolute path', { skip }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kernel-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const venvBin = pythonWithoutJupyter(join(dir, 'venv'));
  assert.ok(venvBin !== null, 'python3 -m venv --without-pip works');
  const prefix = join(dir, 'prefix');
  // PATH holds only a python3 without Jupyter (and no tslab, no jupyter)
  const run = installKernel(['--prefix', prefix], cleanEnv({ PATH: venvBin, JUPYTER_DATA_DIR: join(dir, 'user-data') }));
  assert.equal(run.status, 0, run.stderr);
  const kernelJson = join(prefix, 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json');
  const spec = JSON.parse(readFileSync(kernelJson, 'utf8')) as { argv: string[]; language: string };
  assert.equal(spec.argv[0], tslabBinary(root));
  assert.ok(existsSync(spec.argv[0]!), `${spec.argv[0]} exists`);
  assert.deepEqual(spec.argv.slice(1), ['kernel', '--config-path', '{connection_file}']);
  assert.equal(spec.language, 'typescript');
  assert.match(run.stdout, /skipped python3: No module named 'jupyter_client'/);
  assert.match(run.stdout, /registered the TypeScript kernel 'tslab' with \/usr\/bin\/python3/);
  assert.ok(run.stdout.includes(`JUPYTER_PATH=${join(prefix, 'share', 'jupyter')} jupyter lab notebooks/`), run.stdout);
  assert.ok(!existsSync(join(dir, 'user-data', 'kernels')), 'with --prefix nothing goes to the user folder');
});

test('a PYTHON without Jupyter: exit 1, one line naming it and what to install, nothing registered', { skip }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kernel-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const venvBin = pythonWithoutJupyter(join(dir, 'venv'));
  assert.ok(venvBin !== null);
  const python = join(venvBin, 'python3');
  const run = installKernel([], cleanEnv({ PYTHON: python, JUPYTER_DATA_DIR: join(dir, 'user-data') }));
  assert.equal(run.status, 1);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.ok(lines[0]!.startsWith('error: no Python with Jupyter'), lines[0]);
  assert.ok(lines[0]!.includes(`PYTHON=${python}: No module named 'jupyter_client'`), lines[0]);
  assert.match(lines[0]!, /python3 -m pip install jupyterlab/);
  assert.match(lines[0]!, /sudo apt-get install jupyter-notebook/);
  assert.match(lines[0]!, /set PYTHON to a python that has it/);
  assert.ok(!existsSync(join(dir, 'user-data', 'kernels')));
});

test('an unknown argument or a --prefix without a folder: exit 2 with the usage', () => {
  const unknown = installKernel(['--user-dir'], cleanEnv());
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^error: unknown argument '--user-dir': usage: npm run kernel \[-- --prefix DIR\]/);
  const bare = installKernel(['--prefix'], cleanEnv());
  assert.equal(bare.status, 2);
  assert.match(bare.stderr, /^error: --prefix needs a folder/);
});
