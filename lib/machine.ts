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

/** The 1-minute load average, to two decimals (0 on Windows, where Node reports none). */
export function currentLoadAverage(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
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
    loadAverage: currentLoadAverage(),
  };
}

/**
 * Which machine, for comparisons: the same CPU model, core count, memory and platform. Load,
 * Node and TensorFlow.js versions are recorded beside it but do not make another machine.
 */
export function machineKey(machine: Pick<MachineInfo, 'cpu' | 'cores' | 'memoryGiB' | 'platform'>): string {
  return `${machine.cpu}|${machine.cores}|${machine.memoryGiB}|${machine.platform}`;
}

/** 'AMD EPYC, 2 cores, 24 GiB, linux-x64': the machine in words. */
export function machineLabel(machine: Pick<MachineInfo, 'cpu' | 'cores' | 'memoryGiB' | 'platform'>): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}`;
}
