/**
 * Finding Jupyter on this machine: a Python that has it (tslab's kernel installer is a Python
 * script using jupyter_client and IPython, and kernels are looked up through jupyter_client), and
 * the front-ends the README opens the notebooks with. `python3` on PATH often has no Jupyter
 * (pyenv, a venv, Homebrew), so several Pythons are tried; PYTHON, when set, is the only one.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

export interface PythonCandidate {
  command: string;
  args: readonly string[];
  /** How messages name it: 'python3', 'py -3', 'PYTHON=/opt/py/bin/python'. */
  label: string;
}

export interface JupyterPython {
  /** The interpreter's own path (sys.executable): what kernels are registered with. */
  executable: string;
  label: string;
  jupyterClientVersion: string;
}

export interface PythonSearch {
  found: JupyterPython | null;
  /** One entry per candidate tried before the one found: 'python3: No module named ...'. */
  tried: string[];
}

const PROBE = 'import sys, jupyter_client, IPython; print(sys.executable); print(jupyter_client.__version__)';

/** The interpreter a `jupyter` script on PATH runs with, from its #! line (pipx, Homebrew, venvs). */
function jupyterScriptPython(env: Env, platform: NodeJS.Platform): string | null {
  if (platform === 'win32') return null;
  for (const dir of (env.PATH ?? env.Path ?? '').split(delimiter).filter(Boolean)) {
    const script = join(dir, 'jupyter');
    if (!existsSync(script) || !statSync(script).isFile()) continue;
    const head = Buffer.alloc(256);
    const fd = openSync(script, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    const shebang = /^#!\s*(\S+)/.exec(head.toString('utf8'));
    return shebang !== null && /python[\d.]*$/.test(shebang[1]!) ? shebang[1]! : null;
  }
  return null;
}

/** PYTHON alone when set; else python3, /usr/bin/python3, python, `py -3` (Windows), the python of `jupyter` on PATH. */
export function pythonCandidates(env: Env = process.env, platform: NodeJS.Platform = process.platform): PythonCandidate[] {
  const explicit = env.PYTHON?.trim();
  if (explicit) return [{ command: explicit, args: [], label: `PYTHON=${explicit}` }];
  const candidates: PythonCandidate[] = [{ command: 'python3', args: [], label: 'python3' }];
  if (platform !== 'win32') candidates.push({ command: '/usr/bin/python3', args: [], label: '/usr/bin/python3' });
  candidates.push({ command: 'python', args: [], label: 'python' });
  if (platform === 'win32') candidates.push({ command: 'py', args: ['-3'], label: 'py -3' });
  const behindJupyter = jupyterScriptPython(env, platform);
  if (behindJupyter !== null && !candidates.some((c) => c.command === behindJupyter)) {
    candidates.push({ command: behindJupyter, args: [], label: `${behindJupyter} (runs jupyter)` });
  }
  return candidates;
}

/** The candidate's interpreter and jupyter_client version, or why it cannot register kernels. */
export function probePython(candidate: PythonCandidate, env: Env = process.env): JupyterPython | { reason: string } {
  const probe = spawnSync(candidate.command, [...candidate.args, '-c', PROBE], { encoding: 'utf8', env, timeout: 60_000 });
  if (probe.error !== undefined) {
    return { reason: (probe.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : probe.error.message };
  }
  if (probe.status !== 0) {
    const lastLine = probe.stderr.trim().split('\n').pop()?.trim() ?? '';
    return { reason: lastLine.replace(/^ModuleNotFoundError: /, '') || `exit status ${probe.status}` };
  }
  const [executable, version] = probe.stdout.trim().split('\n').map((line) => line.trim());
  return { executable: executable!, label: candidate.label, jupyterClientVersion: version ?? 'unknown' };
}

/** The first candidate that has Jupyter (jupyter_client and IPython), and what the others lacked. */
export function findJupyterPython(env: Env = process.env, platform: NodeJS.Platform = process.platform): PythonSearch {
  const tried: string[] = [];
  for (const candidate of pythonCandidates(env, platform)) {
    const result = probePython(candidate, env);
    if ('executable' in result) return { found: result, tried };
    tried.push(`${candidate.label}: ${result.reason}`);
  }
  return { found: null, tried };
}

/** How to get Jupyter, one line, for this platform. */
export function installJupyterHint(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return 'install it with `py -m pip install jupyterlab`';
  const pip = 'install it with `python3 -m pip install jupyterlab` (in a venv, or `pipx install jupyterlab`)';
  if (platform === 'darwin') return `${pip}, or \`brew install jupyterlab\``;
  return `${pip}, or on Debian/Ubuntu \`sudo apt-get install jupyter-notebook\` (the classic Notebook; JupyterLab is not packaged there)`;
}

/** Why no Python could be used and what to do, one line. */
export function noJupyterMessage(search: PythonSearch, platform: NodeJS.Platform = process.platform): string {
  return `no Python with Jupyter (jupyter_client and IPython) found (tried ${search.tried.join('; ')}): ${installJupyterHint(platform)}, or set PYTHON to a python that has it`;
}

export interface FrontEnd {
  /** The command that opens the notebooks: 'jupyter lab' or 'jupyter notebook'. */
  command: string;
  version: string;
}

/** `jupyter lab` and `jupyter notebook` as they run from PATH, those that answer --version. */
export function jupyterFrontEnds(env: Env = process.env): FrontEnd[] {
  return ['lab', 'notebook'].flatMap((sub) => {
    const run = spawnSync('jupyter', [sub, '--version'], { encoding: 'utf8', env, timeout: 60_000 });
    if (run.error !== undefined || run.status !== 0) return [];
    return [{ command: `jupyter ${sub}`, version: run.stdout.trim().split('\n').pop()?.trim() ?? '' }];
  });
}
