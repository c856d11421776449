/**
 * `mnist-speedrun doctor` through the real CLI, in environments made to fail each check: python3
 * on PATH without Jupyter and no `jupyter` command, a kernel spec whose command is a bare `tslab`,
 * no MNIST, a PYTHON without Jupyter, a bad wasm thread setting; and one where everything is set
 * up, which must pass. (A missing dist/ is checked in a fresh clone: test/readme-setup.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jupyterFrontEnds } from '../lib/jupyter';
import { projectRoot } from '../lib/project-root';
import { tslabBinary } from '../lib/tslab-kernel';
import { ensureDist } from '../tools/build-dist';
import { cleanEnv, MNIST_DIR, pythonWithoutJupyter, setupSkipReason } from './setup-env';

const root = projectRoot();
const skip = setupSkipReason();
if (skip === false) ensureDist(root);

interface Doctor {
  status: number | null;
  stdout: string;
  /** The report line of one check. */
  line(name: string): string;
}

function doctor(env: NodeJS.ProcessEnv): Doctor {
  const run = spawnSync(process.execPath, [join(root, 'bin', 'mnist-speedrun.js'), 'doctor'], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  const lines = run.stdout.split('\n');
  return {
    status: run.status,
    stdout: run.stdout,
    line(name) {
      const found = lines.find((l) => new RegExp(`^(OK  |FAIL) ${name.padEnd(9)} `).test(l));
      assert.ok(found !== undefined, `no '${name}' line in:\n${run.stdout}${run.stderr}`);
      return found;
    },
  };
}

/** A user data folder whose tslab kernel runs a bare `tslab`, as `npx tslab install` registers it. */
function bareTslabKernel(dir: string): string {
  const kernels = join(dir, 'kernels', 'tslab');
  mkdirSync(kernels, { recursive: true });
  const spec = { argv: ['tslab', 'kernel', '--config-path', '{connection_file}'], display_name: 'TypeScript', language: 'typescript' };
  writeFileSync(join(kernels, 'kernel.json'), JSON.stringify(spec));
  return dir;
}

test('doctor: python3 without Jupyter, no jupyter command, a bare tslab kernel, no MNIST: exit 1, each FAIL with its fix', { skip, timeout: 300_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const venvBin = pythonWithoutJupyter(join(dir, 'venv'));
  assert.ok(venvBin !== null);
  const cache = join(dir, 'cache');
  const run = doctor(cleanEnv({ PATH: venvBin, JUPYTER_DATA_DIR: bareTslabKernel(join(dir, 'data')), XDG_CACHE_HOME: cache }));
  assert.equal(run.status, 1, run.stdout);

  assert.match(run.line('node'), new RegExp(`^OK   node +Node ${process.versions.node.replace(/\./g, '\\.')} \\(package\\.json engines\\.node: `));
  // the python3 on PATH is passed over for one that has Jupyter
  assert.match(run.line('python'), /^OK   python +\/usr\/bin\/python3 has Jupyter .*skipped python3: No module named 'jupyter_client'/);
  assert.match(run.line('jupyter'), /^FAIL jupyter +neither `jupyter lab` nor `jupyter notebook` runs from PATH.*python3 -m pip install jupyterlab/);
  assert.ok(run.line('kernel').startsWith(`FAIL kernel    ${join(dir, 'data', 'kernels', 'tslab', 'kernel.json')} starts tslab, but 'tslab' is not on PATH: npm run kernel`), run.line('kernel'));
  assert.ok(run.line('mnist').startsWith(`FAIL mnist     not in the cache ${join(cache, 'mnist-speedrun')}, and MNIST_DIR is not set: download it now with`), run.line('mnist'));
  assert.match(run.line('mnist'), /or put train-images-idx3-ubyte\.gz, .* in a folder and set MNIST_DIR to it/);
  assert.match(run.line('notebooks'), /^OK   notebooks /);
  assert.match(run.line('backend'), /^OK   backend +(tensorflow|webgpu|wasm|cpu): .*\(chosen automatically: (the only candidate here: .+|fastest of .+ ms\/step.*; timed \d{4}-\d\d-\d\d, (remembered in .+|not remembered))\)$/);
  assert.match(run.stdout, /^3 of 8 checks failed$/m);
});

test('doctor: a PYTHON without Jupyter is the one checked, named with what to install; a bad backend setting fails its check', { skip, timeout: 300_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const venvBin = pythonWithoutJupyter(join(dir, 'venv'));
  assert.ok(venvBin !== null);
  const python = join(venvBin, 'python3');
  const run = doctor(cleanEnv({ PYTHON: python, MNIST_DIR, JUPYTER_DATA_DIR: join(dir, 'data'), MNIST_SPEEDRUN_WASM_THREADS: 'lots' }));
  assert.equal(run.status, 1, run.stdout);
  const line = run.line('python');
  assert.ok(line.startsWith(`FAIL python    no Python with Jupyter (jupyter_client and IPython) found (tried PYTHON=${python}: No module named 'jupyter_client')`), line);
  assert.match(line, /python3 -m pip install jupyterlab.*or set PYTHON to a python that has it$/);
  assert.match(run.line('kernel'), /^FAIL kernel +cannot look up Jupyter kernels without a Python that has Jupyter/);
  assert.match(run.line('settings'), /^FAIL settings +MNIST_SPEEDRUN_WASM_THREADS='lots' is not allowed: /);
  assert.match(run.line('backend'), /^FAIL backend +MNIST_SPEEDRUN_WASM_THREADS='lots' is not allowed: /);
  assert.match(run.line('mnist'), new RegExp(`^OK   mnist +${MNIST_DIR.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.* \\(from MNIST_DIR\\): 4 files, SHA-256 verified$`));
});

test('doctor: everything set up with npm run kernel: every check OK, exit 0', { timeout: 300_000, skip: skip || (jupyterFrontEnds().length === 0 && !process.env.CI ? 'neither jupyter lab nor jupyter notebook is installed (apt-get install jupyter-notebook)' : false) }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = cleanEnv({ MNIST_DIR, JUPYTER_DATA_DIR: join(dir, 'data') });
  const install = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'tools', 'install-kernel.ts')], { cwd: root, env, encoding: 'utf8' });
  assert.equal(install.status, 0, install.stderr);
  const run = doctor(env);
  assert.equal(run.status, 0, run.stdout);
  assert.equal(run.line('kernel'), `OK   kernel    ${join(dir, 'data', 'kernels', 'tslab', 'kernel.json')} starts ${tslabBinary(root)}`);
  assert.match(run.line('jupyter'), /^OK   jupyter +jupyter (lab|notebook) \d/);
  assert.match(run.stdout, /^all 8 checks passed$/m);
});
