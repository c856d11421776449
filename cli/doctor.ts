/**
 * `mnist-speedrun doctor`: checks what the notebooks and the CLI need, one line each, OK or FAIL,
 * each failure with its fix: Node, a Python with Jupyter, a front-end to open the notebooks with,
 * the tslab kernel Jupyter would start, MNIST (found, never downloaded here), the compiled library
 * the notebooks import (dist/), and the backend a run would use. Exit 0 when all pass, else 1.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userCacheDir } from '../lib/cache-dir';
import { checkEnvironment } from '../lib/environment';
import { DataError } from '../lib/errors';
import { MNIST_FILES, locateMnist, MnistNotFoundError } from '../lib/data';
import { distState } from '../lib/dist-state';
import { findJupyterPython, installJupyterHint, jupyterFrontEnds, noJupyterMessage, type Env, type JupyterPython } from '../lib/jupyter';
import { commandProblem, findKernelSpec, type KernelSpec } from '../lib/tslab-kernel';
import { PROBE_PREFIX, type ProbeResult } from './backend-probe';
import { satisfies, VersionRangeError } from './version-range';

export interface Check {
  name: string;
  ok: boolean;
  /** What was found; for a failure, the cause and the fix. */
  detail: string;
}

export interface DoctorOptions {
  /** --data: the MNIST folder to check instead of MNIST_DIR and the cache. */
  data?: string;
  /** The backend a run would ask for (--backend, else MNIST_SPEEDRUN_BACKEND, else auto). */
  backend: string;
}

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export function checkNode(root: string, version: string = process.versions.node): Check {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } };
  const range = manifest.engines?.node ?? '*';
  try {
    if (satisfies(version, range)) return { name: 'node', ok: true, detail: `Node ${version} (package.json engines.node: ${range})` };
  } catch (error) {
    if (!(error instanceof VersionRangeError)) throw error;
    return { name: 'node', ok: false, detail: `package.json engines.node '${range}' cannot be read (${error.message}): fix package.json` };
  }
  return {
    name: 'node',
    ok: false,
    detail: `Node ${version} is outside package.json engines.node '${range}': install a Node version in that range (https://nodejs.org, or nvm install --lts) and run npm ci again`,
  };
}

function checkPython(env: Env): { check: Check; python: JupyterPython | null } {
  const search = findJupyterPython(env);
  if (search.found === null) return { check: { name: 'python', ok: false, detail: noJupyterMessage(search) }, python: null };
  const found = search.found;
  const skipped = search.tried.length > 0 ? `; skipped ${search.tried.join('; ')}` : '';
  return {
    check: { name: 'python', ok: true, detail: `${found.executable} has Jupyter (jupyter_client ${found.jupyterClientVersion})${skipped}` },
    python: found,
  };
}

function checkFrontEnd(env: Env): Check {
  const frontEnds = jupyterFrontEnds(env);
  if (frontEnds.length > 0) return { name: 'jupyter', ok: true, detail: frontEnds.map((f) => `${f.command} ${f.version}`).join(', ') };
  return {
    name: 'jupyter',
    ok: false,
    detail: `neither \`jupyter lab\` nor \`jupyter notebook\` runs from PATH, so the notebooks cannot be opened: ${installJupyterHint()}`,
  };
}

function checkKernel(python: JupyterPython | null, env: Env): Check {
  if (python === null) return { name: 'kernel', ok: false, detail: 'cannot look up Jupyter kernels without a Python that has Jupyter (see python): install it, then npm run kernel' };
  let spec: KernelSpec | null;
  try {
    spec = findKernelSpec(python.executable, env);
  } catch (error) {
    return { name: 'kernel', ok: false, detail: `${error instanceof Error ? error.message : String(error)}: reinstall Jupyter, then npm run kernel` };
  }
  if (spec === null) return { name: 'kernel', ok: false, detail: 'no tslab kernel is registered with Jupyter: npm run kernel' };
  const command = spec.argv[0] ?? '';
  const problem = commandProblem(command, env);
  const where = join(spec.dir, 'kernel.json');
  if (problem !== null) return { name: 'kernel', ok: false, detail: `${where} starts ${command}, but ${problem}: npm run kernel (registers this project's tslab by its absolute path)` };
  return { name: 'kernel', ok: true, detail: `${where} starts ${command}` };
}

async function checkMnist(options: DoctorOptions, env: Env): Promise<Check> {
  const userFolder = options.data ?? (env.MNIST_DIR || undefined);
  try {
    // no mirrors: doctor finds and verifies, and never downloads
    const found = await locateMnist({ dir: options.data, env, mirrors: [] });
    return { name: 'mnist', ok: true, detail: `${found.folder} (from ${found.source}): ${MNIST_FILES.length} files, SHA-256 verified` };
  } catch (error) {
    if (error instanceof MnistNotFoundError && userFolder === undefined) {
      const cache = userCacheDir(env);
      return {
        name: 'mnist',
        ok: false,
        detail: `not in the cache ${cache}, and MNIST_DIR is not set: download it now with \`npx mnist-speedrun start --quick --no-record\` (it caches MNIST there), or put ${MNIST_FILES.map((f) => f.name).join(', ')} in a folder and set MNIST_DIR to it`,
      };
    }
    if (error instanceof DataError) return { name: 'mnist', ok: false, detail: error.message };
    throw error;
  }
}

export function checkNotebookLibrary(root: string): Check {
  const state = distState(root);
  if (state.state === 'fresh') return { name: 'notebooks', ok: true, detail: 'dist/ (the library as the notebooks import it) is built from the current lib/' };
  const cause = state.state === 'missing'
    ? `${state.file} is missing (the notebooks import the library compiled in dist/)`
    : `${state.source} changed after dist/ was built (the notebooks would run the old code)`;
  return { name: 'notebooks', ok: false, detail: `${cause}: npm run build` };
}

function checkBackend(backend: string, env: Env): Check {
  const script = join(PROJECT_ROOT, 'cli', 'backend-probe.ts');
  const child = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), script, backend], {
    encoding: 'utf8',
    env: env as NodeJS.ProcessEnv,
    timeout: 300_000,
  });
  const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith(PROBE_PREFIX));
  if (line === undefined) {
    const why = child.error?.message ?? (child.stderr.trim().split('\n').pop() || `exit status ${child.status}`);
    return { name: 'backend', ok: false, detail: `the backend probe did not finish (${why}): rerun with MNIST_SPEEDRUN_DEBUG=1 npx mnist-speedrun backends` };
  }
  const result = JSON.parse(line.slice(PROBE_PREFIX.length)) as ProbeResult;
  return { name: 'backend', ok: result.ok, detail: result.text };
}

/** Every check, in the order a set-up goes. */
export async function runChecks(options: DoctorOptions, env: Env = process.env, root: string = PROJECT_ROOT): Promise<Check[]> {
  const { check: python, python: found } = checkPython(env);
  return [
    checkNode(root),
    checkSettings(env),
    python,
    checkFrontEnd(env),
    checkKernel(found, env),
    await checkMnist(options, env),
    checkNotebookLibrary(root),
    checkBackend(options.backend, env),
  ];
}

/** Every MNIST_SPEEDRUN_* variable (and MNIST_DIR, XDG_CACHE_HOME) against its rule. */
function checkSettings(env: Env): Check {
  try {
    checkEnvironment(env);
    return { name: 'settings', ok: true, detail: 'every environment variable is allowed' };
  } catch (error) {
    return { name: 'settings', ok: false, detail: (error as Error).message.split('\n')[0]! };
  }
}

export function formatCheck(check: Check): string {
  return `${check.ok ? 'OK  ' : 'FAIL'} ${check.name.padEnd(9)} ${check.detail}`;
}

/** Prints one line per check and a summary; returns the exit code (0 all passed, 1 otherwise). */
export async function doctor(options: DoctorOptions, write: (line: string) => void): Promise<number> {
  const checks = await runChecks(options);
  for (const check of checks) write(formatCheck(check));
  const failed = checks.filter((check) => !check.ok).length;
  write(failed === 0 ? `all ${checks.length} checks passed` : `${failed} of ${checks.length} checks failed`);
  return failed === 0 ? 0 : 1;
}
