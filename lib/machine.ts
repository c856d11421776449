/** What ran a result: printed beside every time, recorded with every ledger entry. */
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { version_core as tfjsVersion } from '@tensorflow/tfjs-core';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  tfjs: string;
  /** 1-minute load average when described: above the core count, other work was competing. */
  loadAverage: number;
}

export function describeMachine(): MachineInfo {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown CPU',
    cores: cores.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${platform()}-${arch()}`,
    node: process.version,
    tfjs: tfjsVersion,
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
  };
}
