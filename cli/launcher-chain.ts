/**
 * The launchers this process runs under (npm, its `sh -c` script shell, tsx, the bin), so the CLI
 * can notice when one of them goes away and not train on as an orphan. `npm start` runs the
 * script through `sh -c`, which dies on SIGTERM without passing it on: signalled alone, npm forwards
 * the signal to that shell only, and tsx with the CLI under it would keep training, re-parented.
 *
 * Linux only (it reads /proc); elsewhere the chain is just the parent.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface Link {
  pid: number;
  ppid: number;
}

function readStat(pid: number): { ppid: number } | null {
  try {
    // pid (comm) state ppid ...; comm may hold spaces and parentheses, so split after the last ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]) };
  } catch {
    return null;
  }
}

function readArgs(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
  } catch {
    return [];
  }
}

/** True for a process that only launches this CLI: a `sh -c` script shell, or node running npm, npx, tsx or this project. */
export function isLauncher(args: readonly string[]): boolean {
  const program = basename(args[0] ?? '').replace(/^-/, '');
  if (['sh', 'dash', 'bash', 'zsh'].includes(program)) return args[1] === '-c';
  if (program === 'npm' || program === 'npx') return true;
  if (program === 'node' || program === 'nodejs') {
    return args.slice(1).some((arg) => /(^|[\\/])(npm|npx|tsx|npm-cli\.js|npx-cli\.js|mnist-speedrun(\.js)?|main\.ts)$|tsx[\\/]dist[\\/]/.test(arg));
  }
  return false;
}

/** This process's parent and the launchers above it, each with the parent it has now. */
export function launcherChain(pid: number = process.pid, ppid: number = process.ppid): Link[] {
  const chain: Link[] = [{ pid, ppid }];
  let current = ppid;
  while (current > 1 && chain.length < 8 && isLauncher(readArgs(current))) {
    const stat = readStat(current);
    if (stat === null) break;
    chain.push({ pid: current, ppid: stat.ppid });
    current = stat.ppid;
  }
  return chain;
}

/**
 * True when a launcher below the topmost one has gone: some link's parent changed. The topmost
 * launcher's own parent (the user's shell) may go away freely (nohup).
 */
export function chainBroken(chain: readonly Link[]): boolean {
  return chain.slice(0, -1).some((link, i) => {
    const now = i === 0 ? process.ppid : readStat(link.pid)?.ppid;
    return now !== link.ppid;
  });
}
