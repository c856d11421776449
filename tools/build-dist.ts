/**
 * `npm run build` (and `npm ci`, which runs it as `prepare`): compiles lib/ into dist/ as CommonJS
 * with declarations, what the notebooks import (lib/dist-state.ts says why). The compiler writes
 * into a fresh folder beside dist/, which then replaces dist/, so a failed build leaves no
 * half-written dist/ behind and a deleted lib/ file leaves no stale module.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST_DIR, DIST_STAMP, distState } from '../lib/dist-state';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export class DistBuildError extends Error {
  constructor(detail: string) {
    super(`building dist/ from lib/ failed (npm run build): ${detail.trim()}`);
    this.name = 'DistBuildError';
  }
}

/** Compiles lib/ of `root` into `root`/dist/ with tsconfig.dist.json and the project's TypeScript. */
export function buildDist(root: string = REPO_ROOT): void {
  if (!hasTypeScript(root)) throw new DistBuildError('TypeScript (a dev dependency) is not installed: npm ci, with dev dependencies');
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  const staging = mkdtempSync(join(root, '.dist-build-'));
  try {
    const compile = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.dist.json'), '--outDir', staging], {
      encoding: 'utf8',
    });
    if (compile.error !== undefined || compile.status !== 0) {
      throw new DistBuildError(compile.error?.message ?? `${compile.stdout}${compile.stderr}`);
    }
    // package.json says "type": "module" for the sources; the compiled files are CommonJS
    writeFileSync(join(staging, DIST_STAMP), JSON.stringify({ type: 'commonjs' }, null, 2) + '\n');
    const dist = join(root, DIST_DIR);
    const previous = `${staging}-previous`;
    try {
      renameSync(dist, previous);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    try {
      renameSync(staging, dist);
    } catch (error) {
      // another build (a parallel notebook run or test) put its dist/ there first: as good as ours
      if (!['EEXIST', 'ENOTEMPTY', 'EPERM'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    rmSync(previous, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Builds dist/ unless it is there and newer than every lib/ source; says why when it builds. */
export function ensureDist(root: string = REPO_ROOT, log: (line: string) => void = () => {}): void {
  const state = distState(root);
  if (state.state === 'fresh') return;
  log(state.state === 'missing' ? `building dist/ (${state.file} is missing)` : `building dist/ (${state.source} changed)`);
  buildDist(root);
}

/** True when the project's TypeScript is installed (npm ci --omit=dev leaves it out). */
function hasTypeScript(root: string): boolean {
  try {
    createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    return true;
  } catch {
    return false;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const withoutDev = process.env.npm_config_omit?.includes('dev') || process.env.NODE_ENV === 'production';
    if (!hasTypeScript(REPO_ROOT) && withoutDev) {
      // an install without dev dependencies is for the CLI, which runs lib/ directly
      console.warn('dist/ not built: TypeScript is a dev dependency; the notebooks need it: npm ci, then npm run build');
    } else buildDist();
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
