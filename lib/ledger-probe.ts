/**
 * Checks, before any data is loaded or any run trained, that the results ledger folder can be
 * created and written, so an unwritable ledger fails in a second instead of after the training.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LedgerError } from './errors';

/**
 * Creates `dir` if needed, writes and removes a probe file; throws a LedgerError (exit 6) naming
 * the folder and the fixes, `orElse` last (the CLI's --no-record; notebooks have none).
 */
export async function checkLedgerWritable(dir: string, orElse = ', or run with --no-record'): Promise<void> {
  const probe = join(dir, `.write-probe-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0];
    throw new LedgerError(`cannot write the results ledger folder ${dir} (${reason}): fix its permissions${orElse === '' ? ' or' : ','} set MNIST_SPEEDRUN_LEDGER to a writable folder${orElse}`);
  }
}
