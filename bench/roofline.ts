/**
 * A training step against the machine's peak: for each net, ms per step, the GFLOP/s that makes
 * (lib/flops.ts's count over the step's time), and what share that is of the f32x4 peak
 * (bench/peak.ts) of the same arithmetic (plain or fused multiply-add) on the same threads.
 */
import type { NetName } from '../lib/recipes';
import type { NativeBuildName } from '../lib/wasm/native-build';
import type { KernelTime } from './kernel-clock';
import type { PeakResult } from './peak';
import type { PeakAround } from './variant';

export interface NetRoofline {
  msPerStep: number;
  gflops: number;
  /** Of the peak of the build's multiply-add on the variant's threads; null where that was not measured. */
  percentOfPeak: number | null;
  /** The kernels that take the most of a step, largest first (bench/kernel-clock.ts); absent where not clocked. */
  topKernels?: KernelTime[];
  /** Ms per step the calling thread waited for the native kernels' helper thread (bench/thread-split.ts); absent where not observed. */
  helperWaitMs?: number;
  /** The peak measured just before and just after the net's timed steps (bench/variant.ts peakProbe); absent where not probed. */
  peakAround?: PeakAround;
  /** The peak the share is of, GFLOP/s: the mean of `peakAround` where probed, else the run's peak; null where none was measured. */
  peakGflops?: number | null;
}

/**
 * How far apart the two probes around a net may be (as a share of their mean) for its share of
 * the peak to be taken as measured on a steady machine; beyond it the table marks the share.
 */
export const PEAK_DRIFT_LIMIT = 0.1;

/**
 * The peak a net's step is held against: the mean of the probes taken just before and just after
 * its timed steps where there are some (the machine's speed when the net ran: a shared machine
 * drifts by tens of percent within minutes), else the peak measured at the start of the run.
 */
export function heldAgainst(around: PeakAround | undefined, runPeak: number | undefined): number | undefined {
  return around === undefined ? runPeak : (around.before + around.after) / 2;
}

/** How far apart the probes around a net were, as a share of their mean. */
export function peakDrift(around: PeakAround): number {
  return Math.abs(around.after - around.before) / ((around.before + around.after) / 2);
}

/** Whether a net's share of the peak is uncertain: its probes moved more than PEAK_DRIFT_LIMIT. */
export function unsteady(cell: NetRoofline): boolean {
  return cell.peakAround !== undefined && peakDrift(cell.peakAround) > PEAK_DRIFT_LIMIT;
}

/** GFLOP/s of `flops` done in `ms`, and its share of `peakGflops`. */
export function rooflineOf(flops: number, ms: number, peakGflops: number | undefined): NetRoofline {
  const gflops = flops / (ms / 1000) / 1e9;
  return { msPerStep: ms, gflops, percentOfPeak: peakGflops === undefined || peakGflops <= 0 ? null : (100 * gflops) / peakGflops };
}

/** The peak a build is held against: the fused multiply-add's for relaxed SIMD, mul + add's otherwise. */
export function peakFor(peak: PeakResult | undefined, build: NativeBuildName, threads: number): number | undefined {
  if (peak === undefined) return undefined;
  return (build === 'relaxed' ? peak.fused : peak.plain)?.[threads];
}

export interface RooflineRow {
  variant: string;
  nets: Partial<Record<NetName, NetRoofline>>;
}

/** One line per variant: per net `ms  GFLOP/s  % of peak`. */
export function formatRoofline(rows: RooflineRow[], nets: NetName[]): string {
  const header = ['variant', ...nets.flatMap((n) => [`${n} ms`, 'GFLOP/s', '% peak'])];
  const body = rows.map((row) => [
    row.variant,
    ...nets.flatMap((n) => {
      const cell = row.nets[n];
      if (cell === undefined) return ['-', '-', '-'];
      const share = cell.percentOfPeak === null ? '-' : `${cell.percentOfPeak.toFixed(0)}%${unsteady(cell) ? '*' : ''}`;
      return [cell.msPerStep.toFixed(1), cell.gflops.toFixed(1), share];
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const marked = rows.some((row) => nets.some((n) => row.nets[n] !== undefined && unsteady(row.nets[n]!)));
  const note = marked ? [`* the peak probes before and after this net differ by more than ${(100 * PEAK_DRIFT_LIMIT).toFixed(0)}%: the machine's speed moved while it ran`] : [];
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ...note].join('\n');
}

/**
 * Which kernels take a step's time: per variant and net, the `count` largest, each with its ms per
 * step and its share of the step's median time, then the wait for the helper thread where it was
 * observed, e.g. 'final: Conv2DBackpropInput 6.1 ms (13%), FusedConv2D 5.9 ms (12%), ...;
 * waiting for the helper thread 2.9 ms (7%)'.
 */
export function formatKernelShares(rows: RooflineRow[], nets: NetName[], count = 3): string {
  const lines: string[] = [];
  for (const row of rows) {
    const cells = nets.flatMap((net) => {
      const cell = row.nets[net];
      if (cell?.topKernels === undefined || cell.topKernels.length === 0) return [];
      const share = (ms: number): string => `${ms.toFixed(1)} ms (${((100 * ms) / cell.msPerStep).toFixed(0)}%)`;
      const kernels = cell.topKernels.slice(0, count).map((k) => `${k.kernel} ${share(k.msPerStep)}`);
      const wait = cell.helperWaitMs === undefined ? '' : `; waiting for the helper thread ${share(cell.helperWaitMs)}`;
      const around = cell.peakAround === undefined ? '' : `; peak ${cell.peakAround.before.toFixed(1)} before, ${cell.peakAround.after.toFixed(1)} after GFLOP/s`;
      return [`  ${net}: ${kernels.join(', ')}${wait}${around}`];
    });
    if (cells.length > 0) lines.push(row.variant, ...cells);
  }
  return lines.join('\n');
}

/** 'plain 1 thread 20.1, 2 threads 39.8 GFLOP/s; fused ...'. */
export function formatPeak(peak: PeakResult): string {
  const part = (name: string, byThreads: Record<number, number> | null): string =>
    byThreads === null
      ? `${name}: not available (no relaxed SIMD)`
      : `${name} ${Object.entries(byThreads).map(([t, g]) => `${t} thread${t === '1' ? '' : 's'} ${g.toFixed(1)}`).join(', ')} GFLOP/s`;
  return `${part('mul+add', peak.plain)}; ${part('fused multiply-add', peak.fused)}`;
}
