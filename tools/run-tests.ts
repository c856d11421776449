/**
 * `npm test [-- FILE...]`: runs test/*.test.ts (or the files given) with Node's own test runner,
 * TypeScript through tsx, at least two files at a time.
 *
 * Why a launcher and not `node --test test/*.test.ts` in package.json:
 * - Node's default is one file fewer than the machine has cores, so one file at a time on 2 cores,
 *   while most of the suite waits on child processes (the CLI, notebooks, PyTorch, npm): two at a
 *   time took the suite from about 870 s to 600 s on a 2-core machine.
 * - The files are listed here, not by a shell glob, which Windows' cmd does not expand and Node 20's
 *   runner does not either.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TEST_DIR = 'test';

/** Files run at once: Node's own default (one fewer than the cores), but never fewer than two. */
export function testConcurrency(cores: number): number {
  return Math.max(2, cores - 1);
}

/** The suite's files, sorted: every `*.test.ts` directly in `dir` (support files are not tests). */
export function suiteFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => entry.name).sort().map((name) => join(dir, name));
}

/** The files to run: those asked for (each must exist), else the whole suite. Throws one line naming a missing file. */
export function chosenFiles(asked: readonly string[], dir: string, cwd: string): string[] {
  if (asked.length === 0) return suiteFiles(dir);
  for (const file of asked) {
    if (!existsSync(resolve(cwd, file))) throw new Error(`no such test file: ${file} (the suite is ${dir}/*.test.ts)`);
  }
  return asked.map((file) => relative(cwd, resolve(cwd, file)));
}

/** Node's arguments for a run of `files`, `concurrency` files at a time, TypeScript through tsx. */
export function nodeTestArguments(files: readonly string[], concurrency: number): string[] {
  return ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files];
}

function main(): void {
  let files: string[];
  try {
    files = chosenFiles(process.argv.slice(2), TEST_DIR, process.cwd());
  } catch (error) {
    console.error(`npm test: ${(error as Error).message}`);
    process.exit(2);
  }
  const child = spawn(process.execPath, nodeTestArguments(files, testConcurrency(availableParallelism())), { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 1));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
