/**
 * `npm run kernel [-- --prefix DIR]`: registers the tslab TypeScript kernel with Jupyter, for this
 * user (or under DIR/share/jupyter), so that it starts this project's own tslab by its absolute
 * path; finds a Python that has Jupyter to do it with, or says what to install; then says how to
 * open the notebooks.
 */
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findJupyterPython, installJupyterHint, jupyterFrontEnds, noJupyterMessage, type Env } from '../lib/jupyter';
import { findKernelSpec, prefixJupyterPath, registerKernel, tslabBinary, type KernelTarget } from '../lib/tslab-kernel';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: npm run kernel [-- --prefix DIR]   (default: for this user)';

export class KernelArgsError extends Error {}

export function parseKernelArgs(argv: readonly string[]): KernelTarget | 'help' {
  let prefix: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg.startsWith('--prefix=')) prefix = arg.slice('--prefix='.length);
    else if (arg === '--prefix') prefix = argv[++i];
    else throw new KernelArgsError(`unknown argument '${arg}': ${USAGE}`);
    if (prefix === undefined || prefix === '') throw new KernelArgsError(`--prefix needs a folder: ${USAGE}`);
  }
  return prefix === undefined ? { user: true } : { prefix: resolve(prefix) };
}

/** Registers the kernel; returns the lines to print. Throws with a one-line message when it cannot. */
export function installKernelSpec(target: KernelTarget, env: Env = process.env, root: string = REPO_ROOT): string[] {
  const binary = tslabBinary(root);
  if (!existsSync(binary)) throw new Error(`${binary} not found: run npm ci first`);
  const search = findJupyterPython(env);
  if (search.found === null) throw new Error(noJupyterMessage(search));
  const python = search.found;
  registerKernel(python.executable, root, target, env);

  const lines: string[] = [];
  if (search.tried.length > 0) lines.push(`skipped ${search.tried.join('; ')}`);
  // what Jupyter will find now, with the prefix on its path when the kernel went there
  const lookupEnv: Env = 'prefix' in target
    ? { ...env, JUPYTER_PATH: [prefixJupyterPath(target.prefix), env.JUPYTER_PATH].filter(Boolean).join(delimiter) }
    : env;
  const spec = findKernelSpec(python.executable, lookupEnv);
  if (spec === null || spec.argv[0] !== binary) {
    throw new Error(
      `registered, but Jupyter finds ${spec === null ? 'no tslab kernel' : `another tslab kernel first, in ${spec.dir} (runs ${spec.argv[0]})`}: ` +
        'remove that folder, or check JUPYTER_PATH and JUPYTER_DATA_DIR',
    );
  }
  lines.push(`registered the TypeScript kernel 'tslab' with ${python.label} (${python.executable}, jupyter_client ${python.jupyterClientVersion})`);
  lines.push(`  ${join(spec.dir, 'kernel.json')} starts ${binary}`);
  if ('prefix' in target) {
    lines.push(
      `Jupyter looks under ${prefixJupyterPath(target.prefix)} only when JUPYTER_PATH names it (or when ${target.prefix} is the prefix of the Python running Jupyter):`,
      `  JUPYTER_PATH=${prefixJupyterPath(target.prefix)} jupyter lab notebooks/`,
    );
    return lines;
  }
  const frontEnds = jupyterFrontEnds(env);
  lines.push('open the notebooks, then choose the TypeScript kernel if asked:');
  lines.push('  jupyter lab notebooks/         (JupyterLab)');
  lines.push('  jupyter notebook notebooks/    (classic Notebook)');
  if (frontEnds.length === 0) lines.push(`neither \`jupyter lab\` nor \`jupyter notebook\` runs here yet: ${installJupyterHint()}`);
  else lines.push(`found here: ${frontEnds.map((f) => `${f.command} ${f.version}`).join(', ')}`);
  return lines;
}

function main(): number {
  let target: KernelTarget | 'help';
  try {
    target = parseKernelArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  if (target === 'help') {
    console.log(USAGE);
    return 0;
  }
  try {
    for (const line of installKernelSpec(target)) console.log(line);
    return 0;
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main();
}
