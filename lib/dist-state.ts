/**
 * The compiled library the notebooks import (`../dist/notebook`). tslab compiles TypeScript only
 * under the kernel's working folder, notebooks/, so lib/ reaches the notebooks as CommonJS with
 * declarations in dist/, built by `npm run build` (which `npm ci` runs as `prepare`). Here: whether
 * that build is there and no older than the sources, for `doctor` and the notebook runner.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const DIST_DIR = 'dist';
/** Written last by the build (it marks dist/ as CommonJS): its time is the build's. */
export const DIST_STAMP = 'package.json';
/** What the notebooks import, each as code and declarations, and the stamp. */
const REQUIRED = ['notebook', 'plot', 'plot-notebook'].flatMap((name) => [`${name}.js`, `${name}.d.ts`]).concat(DIST_STAMP);

export type DistState =
  | { state: 'fresh'; builtMs: number }
  | { state: 'missing'; file: string }
  | { state: 'stale'; source: string };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Whether dist/ under `root` holds a build of every lib/ source as it is now. */
export function distState(root: string): DistState {
  const dist = join(root, DIST_DIR);
  const absent = REQUIRED.find((name) => !existsSync(join(dist, name)));
  if (absent !== undefined) return { state: 'missing', file: `${DIST_DIR}/${absent}` };
  const builtMs = statSync(join(dist, DIST_STAMP)).mtimeMs;
  const newer = sourceFiles(join(root, 'lib')).find((file) => statSync(file).mtimeMs > builtMs);
  if (newer !== undefined) return { state: 'stale', source: relative(root, newer).split('\\').join('/') };
  return { state: 'fresh', builtMs };
}
