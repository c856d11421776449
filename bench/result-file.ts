/**
 * Where a benchmark's saved result goes: results/bench/<date>-<machine>[-what].json, never over an
 * earlier file of the same name (-2, -3, ... are added instead).
 */
import fs from 'node:fs';
import path from 'node:path';

/** DIR/NAME.json, or DIR/NAME-2.json, -3, ... where that exists: a saved result is never overwritten. */
export function freshPath(dir: string, name: string): string {
  for (let n = 1; ; n++) {
    const file = path.join(dir, `${name}${n === 1 ? '' : `-${n}`}.json`);
    if (!fs.existsSync(file)) return file;
  }
}

/** 'amd-epyc-2-cores': the machine in a file name. */
export function machineSlug(cpu: string, coreCount: number): string {
  const model = cpu.toLowerCase().replace(/\(r\)|\(tm\)/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return `${model || 'cpu'}-${coreCount}-cores`;
}
