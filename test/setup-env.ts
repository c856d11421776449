/**
 * Environments for the set-up tests (npm run kernel, doctor, the README's set-up): the caller's
 * environment without anything that points Jupyter, Python or MNIST elsewhere, plus a real Python
 * that lacks Jupyter (a bare venv), to stand for the `python3` of pyenv, Homebrew or a venv.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SYSTEM_PYTHON = '/usr/bin/python3';
export const MNIST_DIR = resolve(process.env.MNIST_DIR ?? '../shared/data/mnist');

/** process.env minus JUPYTER_*, PYTHON, MNIST_DIR, MNIST_SPEEDRUN_*, plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(JUPYTER_|PYTHON$|MNIST_DIR$|MNIST_SPEEDRUN_|npm_)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Whether Debian's python3 has what tslab's installer needs (jupyter_client and IPython). */
export function systemPythonHasJupyter(): boolean {
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import jupyter_client, IPython'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0;
}

/** A venv of SYSTEM_PYTHON without system packages: a real python3 with no Jupyter. Its bin/ folder, or null. */
export function pythonWithoutJupyter(dir: string): string | null {
  const made = spawnSync(SYSTEM_PYTHON, ['-m', 'venv', '--without-pip', dir], { encoding: 'utf8' });
  const bin = join(dir, 'bin');
  return made.status === 0 && existsSync(join(bin, 'python3')) ? bin : null;
}

/** Why the set-up tests cannot run here, or false; in CI a missing tool is a failure, not a skip. */
export function setupSkipReason(): string | false {
  let reason: string | false = false;
  if (process.platform === 'win32') reason = 'these tests use POSIX paths (/usr/bin/python3, bin/ of a venv)';
  else if (!systemPythonHasJupyter()) reason = `${SYSTEM_PYTHON} lacks jupyter_client or IPython (apt-get install jupyter-client python3-ipython)`;
  if (reason !== false && process.env.CI) throw new Error(reason);
  return reason;
}
