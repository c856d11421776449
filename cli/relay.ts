/**
 * Running the CLI in a child process and relaying signals to it, for launchers that cannot wait
 * for a busy process. The `tsx` command (npm start, npx tsx cli/main.ts) re-sends a signal to its
 * child if the child has not answered within 30 ms and then kills it with SIGKILL; a training
 * process busy in a batch cannot answer that fast and would lose its finished runs. Under tsx the
 * CLI therefore runs the work in a child of its own and stays idle itself, answering at once.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLI_CHILD } from '../lib/environment';
import { INTERRUPT_SIGNALS, signalExitCode } from './interrupt';

const CHILD_ENV = CLI_CHILD;

/** True in the process the `tsx` command started (its preflight script is preloaded), unless this is already the relayed child. */
export function needsRelay(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  return env[CHILD_ENV] !== '1' && execArgv.some((arg) => /tsx[\\/]dist[\\/]preflight\.c?js$/.test(arg));
}

/** Runs `script` with `argv` in a child node process (tsx loader), forwarding signals; resolves to its exit code. */
export function runRelayed(script: string, argv: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), fileURLToPath(script), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, [CHILD_ENV]: '1' },
  });
  const forward = INTERRUPT_SIGNALS.map((signal) => {
    const handler = (): void => {
      child.kill(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const [name, handler] of forward) process.off(name, handler);
      resolve(code ?? (signal === null ? 1 : signalExitCode(signal)));
    });
  });
}
