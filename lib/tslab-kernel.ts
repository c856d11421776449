/**
 * The tslab kernel as Jupyter knows it: registering it with the absolute path of this project's
 * own tslab (a bare `tslab`, tslab's default, is on nobody's PATH after a local `npm ci`), and
 * reading back which kernel spec Jupyter would start and whether its command exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Env } from './jupyter';

export class KernelInstallError extends Error {
  constructor(detail: string) {
    super(`could not register the tslab kernel spec: ${detail.trim()}; run npm ci first`);
    this.name = 'KernelInstallError';
  }
}

/** This project's tslab command: what a registered kernel spec runs (npm's .cmd shim on Windows). */
export function tslabBinary(root: string, platform: NodeJS.Platform = process.platform): string {
  return join(root, 'node_modules', '.bin', platform === 'win32' ? 'tslab.cmd' : 'tslab');
}

/** Where the kernel spec goes: the user's Jupyter data folder, or `<prefix>/share/jupyter/kernels`. */
export type KernelTarget = { user: true } | { prefix: string };

/** `<prefix>/share/jupyter`: the JUPYTER_PATH entry under which a --prefix install is found. */
export function prefixJupyterPath(prefix: string): string {
  return join(prefix, 'share', 'jupyter');
}

/**
 * Runs `tslab install` with `python` (which must have jupyter_client and IPython) so that the
 * 'tslab' (and 'jslab') kernel specs start `tslabBinary(root)` by its absolute path.
 */
export function registerKernel(python: string, root: string, target: KernelTarget, env: Env = process.env): void {
  const binary = tslabBinary(root);
  if (!existsSync(binary)) throw new KernelInstallError(`${binary} not found`);
  // tslab's own script through node: a .cmd shim cannot be spawned without a shell on Windows
  const script = join(root, 'node_modules', 'tslab', 'bin', 'tslab');
  const where = 'prefix' in target ? `--prefix=${target.prefix}` : '--user';
  const install = spawnSync(process.execPath, [script, 'install', `--python=${python}`, `--binary=${binary}`, where], {
    encoding: 'utf8',
    env,
  });
  if (install.error !== undefined || install.status !== 0) {
    throw new KernelInstallError(install.error?.message ?? (install.stderr.trim() || install.stdout));
  }
}

export interface KernelSpec {
  /** The folder holding kernel.json. */
  dir: string;
  argv: string[];
}

const LOOKUP = [
  'import json',
  'from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel',
  'try:',
  "    spec = KernelSpecManager().get_kernel_spec('tslab')",
  "    print(json.dumps({'dir': spec.resource_dir, 'argv': spec.argv}))",
  'except NoSuchKernel:',
  "    print('null')",
].join('\n');

/** The 'tslab' kernel spec Jupyter would start, as `python`'s jupyter_client finds it under `env`; null if none. */
export function findKernelSpec(python: string, env: Env = process.env): KernelSpec | null {
  const lookup = spawnSync(python, ['-c', LOOKUP], { encoding: 'utf8', env, timeout: 60_000 });
  if (lookup.error !== undefined || lookup.status !== 0) {
    throw new Error(`${python} could not list Jupyter's kernels: ${lookup.error?.message ?? lookup.stderr.trim().split('\n').pop()}`);
  }
  return JSON.parse(lookup.stdout.trim().split('\n').pop() ?? 'null') as KernelSpec | null;
}

/** Whether `command` (a kernel's argv[0]) can start: an existing file, or a bare name found on PATH. */
export function commandProblem(command: string, env: Env = process.env, platform: NodeJS.Platform = process.platform): string | null {
  const isFile = (path: string): boolean => existsSync(path) && statSync(path).isFile();
  if (isAbsolute(command)) return isFile(command) ? null : `${command} does not exist`;
  const extensions = platform === 'win32' ? ['', ...(env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';')] : [''];
  const dirs = (env.PATH ?? env.Path ?? '').split(delimiter).filter(Boolean);
  const onPath = dirs.some((dir) => extensions.some((ext) => isFile(join(dir, command + ext))));
  return onPath ? null : `'${command}' is not on PATH`;
}
