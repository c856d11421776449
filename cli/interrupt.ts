/**
 * Interruptions: SIGINT, SIGTERM and SIGHUP (and the launcher going away) stop training at the next
 * batch; the finished runs are saved, marked partial, and only then does the process exit, with
 * 128 + the signal's number (130, 143, 129).
 *
 * Launchers relay signals: Ctrl-C reaches the whole process group, so the CLI also gets the same
 * signal again from its parent (tsx, npm, bin/mnist-speedrun.js) a few milliseconds later. A repeat
 * of the first signal within REPEAT_WINDOW_MS is that relay and is ignored; any later signal is
 * acknowledged but waits for the save.
 */
import { constants } from 'node:os';
import { chainBroken, launcherChain } from './launcher-chain';

export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type InterruptSignal = (typeof INTERRUPT_SIGNALS)[number];

const REPEAT_WINDOW_MS = 1000;
const PARENT_CHECK_MS = 100;

export interface Interrupts {
  /** Aborted at the first interruption. */
  readonly signal: AbortSignal;
  /** 128 + the first signal's number, or null when not interrupted. */
  exitCode(): number | null;
  dispose(): void;
}

export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

export function watchInterrupts(log: (line: string) => void): Interrupts {
  const controller = new AbortController();
  let first: { signal: InterruptSignal; atMs: number } | null = null;
  let acknowledged = false;

  const interrupt = (signal: InterruptSignal, why: string): void => {
    if (first === null) {
      first = { signal, atMs: Date.now() };
      log(`\ninterrupted (${why}): stopping at the next batch and saving the finished runs, marked partial`);
      controller.abort();
      return;
    }
    if (signal === first.signal && Date.now() - first.atMs < REPEAT_WINDOW_MS) return;
    if (!acknowledged) {
      acknowledged = true;
      log(`${why} again: exiting as soon as the finished runs are saved`);
    }
  };

  const handlers = INTERRUPT_SIGNALS.map((signal) => {
    const handler = (): void => interrupt(signal, signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });

  // A launcher that dies without passing the signal on (npm's `sh -c`, a killed tsx) leaves this
  // process training as an orphan: treat that as a hang-up (cli/launcher-chain.ts).
  const chain = launcherChain();
  const timer = setInterval(() => {
    if (chainBroken(chain)) interrupt('SIGHUP', 'the launching process is gone');
  }, PARENT_CHECK_MS);
  timer.unref();

  return {
    signal: controller.signal,
    exitCode: () => (first === null ? null : signalExitCode(first.signal)),
    dispose: () => {
      clearInterval(timer);
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}
