/**
 * The notebooks import lib/ through tslab, which compiles each file to CommonJS with its own
 * TypeScript (5.0) and non-strict settings, and refuses a cell whose imports do not type-check
 * there. Code that passes `tsc` under tsconfig.json can still fail there; these checks catch it
 * before a notebook run does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

function libFiles(dir = 'lib'): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return libFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

test('no lib file uses import.meta (it does not exist in the CommonJS that tslab runs)', () => {
  const offenders = libFiles().filter((path) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .some((line) => !line.trim().startsWith('//') && !line.trim().startsWith('*') && line.includes('import.meta')),
  );
  assert.deepEqual(offenders, [], `resolve paths from projectRoot() instead of import.meta in: ${offenders.join(', ')}`);
});

test('notebooks reach the library through notebooks/lib, a link to ../lib', () => {
  const target = join('notebooks', 'lib', 'notebook.ts');
  assert.ok(statSync(target).isFile(), `${target} should resolve through the notebooks/lib link`);
});

test('the library type-checks as tslab compiles it (its TypeScript, CommonJS, not strict)', () => {
  const tslabTsc = 'node_modules/@tslab/typescript-for-tslab/lib/tsc.js';
  const result = spawnSync(
    process.execPath,
    [tslabTsc, '--noEmit', '--target', 'ES2022', '--module', 'commonjs', '--moduleResolution', 'node',
      '--esModuleInterop', '--skipLibCheck', '--types', 'node', 'lib/notebook.ts', 'lib/plot-notebook.ts'],
    { encoding: 'utf8' },
  );
  assert.equal(result.status, 0, `tslab's compiler rejects the library:\n${result.stdout}${result.stderr}`);
});
