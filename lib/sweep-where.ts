/**
 * Where a sweep's runs were made, read from their records, so that a saved sweep table says which
 * machine, backend and load its times come from (times are comparable only on one machine).
 */
import type { StepRecord } from './results';

export interface SweepWhere {
  cpu: string;
  cores: number;
  platform: string;
  node: string;
  tfjs: string;
  /** The backend in words (the records' backendLabel, else the backend's name). */
  backend: string;
  threads: number | null;
  /** Lowest and highest 1-minute load average recorded at the end of a run. */
  loadAverage: { min: number; max: number };
  /** How many different machines or backends the records name (1 when the times compare). */
  settings: number;
}

/** Null for no records; with records from several machines or backends, the first one's, and `settings` > 1. */
export function sweepWhere(records: readonly StepRecord[]): SweepWhere | null {
  const first = records[0];
  if (first === undefined) return null;
  const key = (r: StepRecord): string => JSON.stringify([r.machine.cpu, r.machine.cores, r.machine.platform, r.machine.node, r.backend, r.backendLabel ?? '', r.threads]);
  const loads = records.map((r) => r.machine.loadAverage);
  return {
    cpu: first.machine.cpu,
    cores: first.machine.cores,
    platform: first.machine.platform,
    node: first.machine.node,
    tfjs: first.machine.tfjs,
    backend: first.backendLabel ?? first.backend,
    threads: first.threads,
    loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
    settings: new Set(records.map(key)).size,
  };
}
