/**
 * How the command-line entry points (the CLI, the bench) end: with the code their work returned,
 * or, when it threw, one line on stderr naming the cause (the stack only with
 * MNIST_SPEEDRUN_DEBUG) and the README's exit code for that error.
 */
import { debugRequested } from './environment';
import { exitCodeFor } from './errors';

export function exitWhenDone(work: Promise<number>): void {
  work.then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`error: ${message.split('\n')[0]}\n`);
      if (debugRequested() && error instanceof Error) process.stderr.write(`${error.stack}\n`);
      process.exit(exitCodeFor(error));
    },
  );
}
