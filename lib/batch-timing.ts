/**
 * Step 04's change measured on its own: the time to cut one epoch of training batches (nothing
 * trained), sample by sample as steps 1-3 do, and as slices of device tensors as steps 4-8 do.
 * Every batch is read back before the clock stops, so neither path is timed on work it has only
 * queued.
 */
import type { Batch, Split } from './data';
import { deviceBatches, inSavedOrder, loadDeviceSplit } from './device-data';
import { DataLoader, MnistSampleDataset } from './loader';
import { formatTiming, timeRuns } from './timing';

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
