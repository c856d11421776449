/**
 * Step 04's change measured on its own: the time to cut one epoch of training batches (nothing
 * trained), sample by sample as steps 1-3 do, and as slices of device tensors as steps 4-8 do.
 * Every batch is read back before the clock stops, so neither path is timed on work it has only
 * queued.
 */
import type { Batch, Split } from './data';
import { deviceBatches, inSavedOrder, loadDeviceSplit } from './device-data';
import { DataLoader, MnistSampleDataset } from './loader';
import { formatDuration, formatTiming, mean, std, timeRuns } from './timing';

/** Reads every batch back (an `await` on each image tensor), disposes it, and counts the batches. */
export async function drainBatches(batches: Iterable<Batch>): Promise<number> {
  let count = 0;
  for (const { x, y } of batches) {
    await x.data();
    x.dispose();
    y.dispose();
    count++;
  }
  return count;
}

export interface BatchAssemblyTiming {
  batchSize: number;
  batches: number;
  perSampleMs: number[];
  deviceMs: number[];
}

/** Times `runs` epochs of batch assembly on each path, after one untimed epoch each. */
export async function timeBatchAssembly(train: Split, batchSize: number, runs = 3): Promise<BatchAssemblyTiming> {
  const perSample = new DataLoader(new MnistSampleDataset(train), { batchSize, shuffle: true, seed: 1 });
  const device = loadDeviceSplit(inSavedOrder(train));
  try {
    const perSampleTiming = await timeRuns(() => drainBatches(perSample), { runs });
    const deviceTiming = await timeRuns(() => drainBatches(deviceBatches(device, batchSize, false)), { runs });
    return { batchSize, batches: deviceTiming.results[0]!, perSampleMs: perSampleTiming.samplesMs, deviceMs: deviceTiming.samplesMs };
  } finally {
    device.dispose();
  }
}

/** The two timings as two aligned lines, for a notebook or a terminal. */
export function formatBatchAssembly(timing: BatchAssemblyTiming): string {
  return [
    `one epoch of ${timing.batches} batches of ${timing.batchSize}, nothing trained:`,
    `  sample by sample (steps 1-3):  ${formatTiming(timing.perSampleMs)}`,
    `  device slices (steps 4-8):     ${formatTiming(timing.deviceMs)}`,
  ].join('\n');
}

/** The two timings as a table: one row per path, the mean time per epoch and the speed-up. */
export function batchAssemblyTable(timing: BatchAssemblyTiming): { caption: string; columns: string[]; values: string[][] } {
  const perSample = mean(timing.perSampleMs);
  const device = mean(timing.deviceMs);
  const runs = timing.perSampleMs.length;
  return {
    caption: `one epoch of ${timing.batches} batches of ${timing.batchSize}, nothing trained (${runs} timed run${runs === 1 ? '' : 's'} each, after a warm-up)`,
    columns: ['batches cut', 'used by', 'time per epoch', 'speed-up'],
    values: [
      ['sample by sample', 'steps 1-3', formatTimingCell(timing.perSampleMs), '1.0x'],
      ['as device slices', 'steps 4-8', formatTimingCell(timing.deviceMs), `${(perSample / device).toFixed(1)}x`],
    ],
  };
}

/** 'mean ± std' of the samples, or the one time alone. */
function formatTimingCell(samplesMs: readonly number[]): string {
  return samplesMs.length === 1 ? formatDuration(samplesMs[0]!) : `${formatDuration(mean(samplesMs))} ± ${formatDuration(std(samplesMs))}`;
}
