/**
 * A progress bar on stderr for long runs: redrawn in place on a terminal, one line per epoch
 * otherwise (logs and CI stay readable).
 */
import type { BatchProgress, EpochRecord, RunResult } from '../lib/train';

export interface ProgressBar {
  onBatch(progress: BatchProgress): void;
  onEpoch(record: EpochRecord): void;
  /** Ends the bar with one line: the run finished (time, accuracy) or was interrupted. */
  done(result: Pick<RunResult, 'seconds' | 'testAccuracy' | 'partial'> & Partial<Pick<RunResult, 'validationAccuracy'>>): void;
}

const WIDTH = 24;

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const interactive = Boolean(stream.isTTY);
  let lastDrawMs = 0;
  if (!interactive) stream.write(`${label}: training\n`);
  return {
    onBatch(p) {
      if (!interactive) return;
      const now = Date.now();
      if (now - lastDrawMs < 100 && p.batch !== p.batchesPerEpoch) return;
      lastDrawMs = now;
      const fraction = ((p.epoch - 1) * p.batchesPerEpoch + p.batch) / (p.epochs * p.batchesPerEpoch);
      const filled = Math.round(fraction * WIDTH);
      const bar = '#'.repeat(filled) + '-'.repeat(WIDTH - filled);
      stream.write(`\r${label} [${bar}] epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batchesPerEpoch} lr ${p.learningRate.toPrecision(3)}  `);
    },
    onEpoch(r) {
      const accuracy = r.evalAccuracy === null ? '' : `, ${r.evalSet} accuracy ${r.evalAccuracy.toFixed(2)}%`;
      const line = `${label} epoch ${r.epoch}: train loss ${r.trainLoss.toFixed(4)}${accuracy} at ${r.elapsedSeconds.toFixed(1)} s`;
      stream.write(interactive ? `\r${line.padEnd(100)}\n` : `${line}\n`);
    },
    done(result) {
      // a sweep's run measures no test accuracy: its validation accuracy is what it is judged on
      const validation = result.validationAccuracy ?? null;
      const accuracy =
        result.testAccuracy !== null ? `, test accuracy ${result.testAccuracy.toFixed(2)}%` : validation !== null ? `, validation accuracy ${validation.toFixed(2)}%` : '';
      const line = result.partial
        ? `${label}: interrupted after ${result.seconds.toFixed(1)} s (partial)`
        : `${label}: finished in ${result.seconds.toFixed(2)} s${accuracy}`;
      stream.write(interactive ? `\r${line.padEnd(100)}\n` : `${line}\n`);
    },
  };
}
