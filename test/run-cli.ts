/** The real CLI run as a user would, for the tests that meet it that way. */
import { spawn } from 'node:child_process';

const MNIST_DIR = process.env.MNIST_DIR ?? '../shared/data/mnist';

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a user would; `onStderr` may act on the process (e.g. send Ctrl-C). */
export function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  onStderr?: (text: string, kill: () => void) => void,
  timeoutMs = 180_000,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      env: { ...process.env, MNIST_DIR, MNIST_SPEEDRUN_BACKEND: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
      onStderr?.(stderr, () => child.kill('SIGINT'));
    });
    // a command that should be refused at once but trains instead is stopped, not waited for
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
