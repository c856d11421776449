/**
 * The notebooks import lib/ through tslab, which compiles each file to CommonJS with its own,
 * non-strict settings. Two things that work under tsx break there; these checks catch them before
 * a notebook run does.
 */
import assert from 'node:assert/strict';
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
