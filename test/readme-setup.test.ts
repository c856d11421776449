/**
 * The README's set-up for the notebooks, word for word, in a checkout like a Windows one: a clone
 * with core.symlinks=false. Its commands run there as written (`npm ci` as the lifecycle script it
 * runs once packages are in place, since node_modules is linked in, not installed), the kernel is
 * registered into a temporary Jupyter data folder, and the kernel Jupyter would start from that
 * registration runs a notebook's import cell in notebooks/, as JupyterLab starts it. Then one
 * notebook runs in quick mode with `npm run notebooks` from the same clone. Slow (a minute or two).
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../lib/project-root';
import { tslabBinary } from '../lib/tslab-kernel';
import { checkNotebookTools, defaultOptions, NotebookToolsMissingError } from '../tools/run-notebooks';
import { cleanEnv, MNIST_DIR, setupSkipReason } from './setup-env';

const root = projectRoot();
const python = defaultOptions().python;

function skipReason(): string | false {
  const base = setupSkipReason();
  if (base !== false) return base;
  try {
    checkNotebookTools(python);
  } catch (error) {
    if (!(error instanceof NotebookToolsMissingError) || process.env.CI) throw error;
    return error.message;
  }
  if (spawnSync('git', ['rev-parse', '--git-dir'], { cwd: root }).status !== 0) return 'not a git checkout';
  return false;
}
const skip = skipReason();

/** The commands of the README's first sh block under "## The notebooks", comments dropped. */
function readmeSetup(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The notebooks'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  assert.ok(block !== null, 'README.md has an sh block under "## The notebooks"');
  return block[1]!.split('\n').map((line) => line.replace(/#.*/, '').trim()).filter(Boolean);
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 600_000 });
  assert.equal(result.error, undefined);
  return result;
}

function oneCellNotebook(path: string, source: string): void {
  const cell = { id: 'imports', cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source };
  const metadata = { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } };
  writeFileSync(path, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata, cells: [cell] }));
}

test("the README's notebook set-up works as written in a clone without symbolic links", { skip, timeout: 900_000 }, () => {
  assert.deepEqual(readmeSetup(), ['npm ci', 'npm run kernel', 'jupyter lab notebooks/'], 'README set-up changed: update this test with it');

  const dir = mkdtempSync(join(tmpdir(), 'readme-setup-'));
  const clone = join(dir, 'clone');
  const cloned = run('git', ['-c', 'core.symlinks=false', 'clone', '-q', '-c', 'core.symlinks=false', root, clone], dir, cleanEnv());
  assert.equal(cloned.status, 0, cloned.stderr);
  assert.ok(!existsSync(join(clone, 'notebooks', 'lib')), 'no notebooks/lib in a checkout');
  symlinkSync(realpathSync(join(root, 'node_modules')), join(clone, 'node_modules'), 'junction');
  const env = cleanEnv({ JUPYTER_DATA_DIR: join(dir, 'jupyter-data'), JUPYTER_RUNTIME_DIR: join(dir, 'runtime'), XDG_CACHE_HOME: join(dir, 'cache') });

  // before the build, doctor says what the notebooks lack and how to get it
  const before = run(process.execPath, [join(clone, 'bin', 'mnist-speedrun.js'), 'doctor'], clone, { ...env, MNIST_DIR });
  assert.equal(before.status, 1, before.stdout);
  assert.match(before.stdout, /^FAIL notebooks +dist\/notebook\.js is missing .*: npm run build$/m);

  // npm ci: packages are linked in; what npm ci runs after installing them is the prepare script
  const built = run('npm', ['run', 'prepare'], clone, env);
  assert.equal(built.status, 0, built.stdout + built.stderr);
  assert.ok(existsSync(join(clone, 'dist', 'notebook.js')) && existsSync(join(clone, 'dist', 'notebook.d.ts')));

  // npm run kernel: registered for the user, here the temporary JUPYTER_DATA_DIR
  const kernel = run('npm', ['run', 'kernel'], clone, env);
  assert.equal(kernel.status, 0, kernel.stdout + kernel.stderr);
  assert.match(kernel.stdout, /jupyter lab notebooks\//);
  const spec = JSON.parse(readFileSync(join(dir, 'jupyter-data', 'kernels', 'tslab', 'kernel.json'), 'utf8')) as { argv: string[] };
  assert.equal(spec.argv[0], tslabBinary(clone));

  // jupyter lab notebooks/: Jupyter starts the registered kernel in the notebook's folder; here it
  // runs step 3's import cell and shows what it imported
  const notebook = JSON.parse(readFileSync(join(clone, 'notebooks', '03-smaller-net.ipynb'), 'utf8')) as { cells: Array<{ cell_type: string; source: string[] }> };
  const importCell = notebook.cells.find((cell) => cell.cell_type === 'code')!.source.join('');
  assert.match(importCell, /from '\.\.\/dist\/notebook'/);
  const probe = join(dir, 'imports.ipynb');
  oneCellNotebook(probe, `${importCell}\nconsole.log([typeof startSession, typeof showFigure, typeof epochCurvesSpec, process.cwd()].join(' '))`);
  const executed = join(dir, 'imports-out.ipynb');
  const cell = run(python, [join(clone, 'tools', 'run_notebook.py'), probe, executed, join(clone, 'notebooks'), '300'], clone, env);
  assert.equal(cell.status, 0, cell.stderr);
  const output = readFileSync(executed, 'utf8');
  assert.ok(output.includes(`function function function ${join(clone, 'notebooks')}`), output);

  // npm run notebooks -- --quick: one notebook, from the same clone
  const quick = run('npm', ['run', 'notebooks', '--', '--quick', 'notebooks/03-smaller-net.ipynb'], clone, { ...env, MNIST_DIR });
  assert.equal(quick.status, 0, quick.stdout + quick.stderr);
  assert.match(quick.stdout, /^PASS 03-smaller-net\.ipynb /m);
  // kept when a step fails, to read what it left
  rmSync(dir, { recursive: true, force: true });
});
