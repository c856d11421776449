/** A child process run to its end, its output collected: what the tests that spawn commands share. */
import { spawn } from 'node:child_process';

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` with `args`, stdin closed, and resolves with its exit code and output. */
export function spawnOutcome(command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
