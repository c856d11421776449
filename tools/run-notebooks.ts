/**
 * Executes the notebooks headlessly with the tslab kernel and fails on any cell error.
 *
 *   npm run notebooks                       check: run notebooks/NN-*.ipynb into temp copies
 *   npm run notebooks -- --workshop         the same in workshop mode (MNIST_SPEEDRUN_MODE=workshop):
 *                                           a fixed subset, at most 2 epochs, a few minutes each
 *   npm run notebooks -- --quick            the same on a tiny subset (MNIST_SPEEDRUN_MODE=quick)
 *   npm run notebooks -- --write            full run, outputs saved into the committed notebooks,
 *                                           results recorded as the reference (results/reference/)
 *   npm run notebooks -- notebooks/03-*.ipynb   only these
 *
 * Needs Debian's python3-nbclient, jupyter-client and python3-ipython (see .ci/apt-packages). The
 * kernel spec is registered into .jupyter/ of this checkout (gitignored), never into the user's
 * Jupyter. Check mode never touches the committed notebooks; --write replaces one only when all of
 * its cells passed, so a failed run cannot leave half-fresh outputs behind. The notebooks import
 * lib/ compiled into dist/ (tools/build-dist.ts); it is rebuilt first when a lib/ file changed.
 * At the end it prints each notebook's elapsed time in minutes, with the mode it ran in.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelInstallError, prefixJupyterPath, registerKernel, tslabBinary } from '../lib/tslab-kernel';
import { ensureDist } from './build-dist';
import { checkEnvironment } from '../lib/environment';
import { runModeFromEnv, type RunMode } from '../lib/run-mode';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DRIVER = join(REPO_ROOT, 'tools', 'run_notebook.py');
/** Debian's python, which has nbclient; a pyenv or venv python on PATH usually does not. */
const DEFAULT_PYTHON = '/usr/bin/python3';
const APT_PACKAGES = 'python3-nbclient jupyter-nbconvert jupyter-client python3-ipython';

export interface RunOptions {
  /** Save outputs into the notebooks themselves instead of temp copies. */
  write: boolean;
  /** The run mode passed to the kernel as MNIST_SPEEDRUN_MODE (lib/run-mode.ts). */
  mode: RunMode;
  /** Longest one cell may run before the notebook fails. */
  cellTimeoutS: number;
  python: string;
  /** Where the kernel spec goes: `<jupyterDir>/share/jupyter/kernels/tslab`. */
  jupyterDir: string;
}

export interface NotebookResult {
  notebook: string;
  passed: boolean;
  elapsedMs: number;
  /** The driver's account of the first failing cell (empty when passed). */
  report: string;
  /** The executed copy, kept when the notebook failed so its outputs can be read. */
  executedCopy: string | null;
}

export class NotebookToolsMissingError extends Error {
  constructor(python: string, detail: string) {
    super(`${python} cannot import nbclient (${detail.trim().split('\n').pop() ?? ''}): install Debian packages: apt-get install ${APT_PACKAGES}, or set PYTHON to a python that has nbclient`);
    this.name = 'NotebookToolsMissingError';
  }
}

export { KernelInstallError };

export function defaultOptions(env: NodeJS.ProcessEnv = process.env): RunOptions {
  return {
    write: false,
    mode: runModeFromEnv(env),
    cellTimeoutS: 1800,
    python: env.PYTHON ?? DEFAULT_PYTHON,
    jupyterDir: join(REPO_ROOT, '.jupyter'),
  };
}

/** Throws NotebookToolsMissingError unless `python` can run the driver. */
export function checkNotebookTools(python: string): void {
  const probe = spawnSync(python, ['-c', 'import nbclient, nbformat, jupyter_client'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new NotebookToolsMissingError(python, probe.error?.message ?? probe.stderr);
  }
}

/** Registers tslab's kernel spec under `jupyterDir`; returns the JUPYTER_PATH entry to use. */
export function installKernel(python: string, jupyterDir: string): string {
  const jupyterPath = prefixJupyterPath(jupyterDir);
  // reinstalling deletes the spec folder first, which would race a kernel starting in parallel
  if (kernelSpecLaunches(join(jupyterPath, 'kernels', 'tslab', 'kernel.json'), tslabBinary(REPO_ROOT))) return jupyterPath;
  registerKernel(python, REPO_ROOT, { prefix: jupyterDir });
  return jupyterPath;
}

function kernelSpecLaunches(kernelJson: string, tslab: string): boolean {
  if (!existsSync(kernelJson)) return false;
  try {
    const spec: unknown = JSON.parse(readFileSync(kernelJson, 'utf8'));
    return typeof spec === 'object' && spec !== null && 'argv' in spec && Array.isArray(spec.argv) && spec.argv[0] === tslab;
  } catch {
    return false;
  }
}

/** notebooks/NN-*.ipynb (01-baseline ... 09-beyond), in order: one per step. */
export function defaultNotebooks(): string[] {
  const dir = join(REPO_ROOT, 'notebooks');
  return readdirSync(dir)
    .filter((name) => /^\d{2}-.*\.ipynb$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** The driver's exit status and stderr; a python that cannot start counts as a failed run. */
function runDriver(python: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(python, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderr += text));
    child.on('error', (error) => resolveRun({ status: null, stderr: error.message }));
    child.on('close', (status) => resolveRun({ status, stderr }));
  });
}

/** Runs one notebook; the kernel starts in the notebook's own folder, as JupyterLab does. */
export async function runNotebook(notebook: string, options: RunOptions, jupyterPath: string): Promise<NotebookResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'notebook-run-'));
  const executedCopy = join(scratch, basename(notebook));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: [jupyterPath, process.env.JUPYTER_PATH].filter((p) => p !== undefined && p !== '').join(delimiter),
    // keeps the kernel from writing runtime files into the user's home
    JUPYTER_RUNTIME_DIR: join(scratch, 'runtime'),
  };
  // the mode reaches the kernel by name; MNIST_SPEEDRUN_QUICK, its older alias, only beside quick
  env.MNIST_SPEEDRUN_MODE = options.mode;
  if (options.mode === 'quick') env.MNIST_SPEEDRUN_QUICK = '1';
  else delete env.MNIST_SPEEDRUN_QUICK;
  // saving outputs into the committed notebooks re-records the reference results they show;
  // every other run records into your own ledger
  if (options.write) env.MNIST_SPEEDRUN_REFERENCE = '1';
  else delete env.MNIST_SPEEDRUN_REFERENCE;
  const startMs = performance.now();
  const run = await runDriver(
    options.python,
    [DRIVER, notebook, executedCopy, dirname(resolve(notebook)), String(options.cellTimeoutS)],
    env,
  );
  const elapsedMs = performance.now() - startMs;
  const passed = run.status === 0;
  if (passed && options.write) copyFileSync(executedCopy, notebook);
  if (passed) rmSync(scratch, { recursive: true, force: true });
  const report = passed ? '' : run.stderr.trim();
  return { notebook, passed, elapsedMs, report, executedCopy: passed ? null : executedCopy };
}

/** What one notebook cost: its name, the mode it ran in, and its wall-clock time (kernel start included). */
export interface NotebookCost {
  notebook: string;
  mode: RunMode;
  elapsedMs: number;
  passed: boolean;
}

/** The cost of each notebook as a small text table (notebook, mode, minutes), with the total. */
export function formatCostTable(costs: readonly NotebookCost[]): string {
  const minutes = (ms: number): string => (ms / 60_000).toFixed(1);
  const rows = costs.map((c) => [c.notebook, c.mode, minutes(c.elapsedMs), c.passed ? '' : 'FAILED']);
  const total = costs.reduce((sum, c) => sum + c.elapsedMs, 0);
  const all = [['notebook', 'mode', 'minutes', ''], ...rows, ['total', '', minutes(total), '']];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...all.map((row) => row[c]!.length)));
  // minutes right-aligned, so the decimal points line up
  const line = (row: string[]): string =>
    row.map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const rule = widths.slice(0, 3).map((w) => '-'.repeat(w)).join('  ');
  return [line(all[0]!), rule, ...rows.map(line), rule, line(all.at(-1)!)].join('\n');
}

export function parseArgs(argv: readonly string[], defaults: RunOptions): { options: RunOptions; notebooks: string[] } {
  const options = { ...defaults };
  const notebooks: string[] = [];
  let modeFlag: string | null = null;
  for (const arg of argv) {
    if (arg === '--write') options.write = true;
    else if (arg === '--quick' || arg === '--workshop') {
      if (modeFlag !== null && modeFlag !== arg) throw new Error(`${modeFlag} and ${arg} ask for different modes: give one of them`);
      modeFlag = arg;
      options.mode = arg === '--quick' ? 'quick' : 'workshop';
    } else if (arg.startsWith('--cell-timeout=')) options.cellTimeoutS = Number(arg.slice('--cell-timeout='.length));
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}: use --write, --workshop, --quick, --cell-timeout=SECONDS`);
    else notebooks.push(resolve(arg));
  }
  if (!(options.cellTimeoutS > 0)) throw new Error('--cell-timeout must be a positive number of seconds');
  if (options.write && options.mode !== 'full') {
    const by = modeFlag ?? `MNIST_SPEEDRUN_MODE=${options.mode} (or MNIST_SPEEDRUN_QUICK)`;
    throw new Error(`--write saves reference outputs, which are full runs: not with ${by}`);
  }
  return { options, notebooks };
}

async function main(): Promise<number> {
  const { options, notebooks: chosen } = parseArgs(process.argv.slice(2), defaultOptions());
  // the kernels inherit this environment: a bad setting fails here once, not in every notebook
  checkEnvironment();
  const notebooks = chosen.length > 0 ? chosen : defaultNotebooks();
  if (notebooks.length === 0) {
    console.error('no notebooks found (notebooks/NN-*.ipynb)');
    return 1;
  }
  checkNotebookTools(options.python);
  // the notebooks import lib/ compiled in dist/: rebuilt here when lib/ changed since
  ensureDist(REPO_ROOT, (line) => console.log(line));
  const jupyterPath = installKernel(options.python, options.jupyterDir);
  const mode = `${options.mode}, ${options.write ? 'writing outputs into the notebooks' : 'check only (temp copies)'}`;
  console.log(`running ${notebooks.length} notebook(s): ${mode}`);
  let failures = 0;
  const costs: NotebookCost[] = [];
  for (const notebook of notebooks) {
    const result = await runNotebook(notebook, options, jupyterPath);
    costs.push({ notebook: basename(notebook, '.ipynb'), mode: options.mode, elapsedMs: result.elapsedMs, passed: result.passed });
    const seconds = (result.elapsedMs / 1000).toFixed(1);
    console.log(`${result.passed ? 'PASS' : 'FAIL'} ${basename(notebook)} ${seconds} s`);
    if (!result.passed) {
      failures += 1;
      console.log(result.report.replace(/^/gm, '    '));
      if (result.executedCopy !== null) console.log(`    executed copy: ${result.executedCopy}`);
    }
  }
  console.log(`\n${formatCostTable(costs)}\n`);
  console.log(failures === 0 ? 'all notebooks passed' : `${failures} of ${notebooks.length} notebook(s) failed`);
  return failures === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (status) => (process.exitCode = status),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 2;
    },
  );
}
