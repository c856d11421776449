import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { lockfilePackages } from '../tools/workshop-cache';

test('the offline cache list names registry packages once, by their real name, and skips links and local folders', () => {
  const lock = {
    lockfileVersion: 3,
    packages: {
      '': { name: 'mnist-speedrun', version: '0.1.0' },
      'node_modules/a': { version: '1.0.0' },
      'node_modules/@scope/b': { version: '2.0.0', optional: true, os: ['win32'] },
      'node_modules/c/node_modules/a': { version: '1.0.0' },
      'node_modules/alias': { name: 'real-name', version: '3.0.0' },
      'node_modules/linked': { resolved: 'packages/linked', link: true },
      'packages/linked': { version: '0.0.1' },
      'node_modules/from-git': { version: '1.2.3', resolved: 'git+ssh://git@example.com/x.git' },
    },
  };
  assert.deepEqual(lockfilePackages(JSON.stringify(lock)), ['a@1.0.0', '@scope/b@2.0.0', 'real-name@3.0.0']);
});

test('the project lockfile gives every platform its binaries, not only this one', () => {
  const specs = lockfilePackages(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));
  for (const platform of ['win32-x64-msvc', 'darwin-arm64', 'darwin-x64', 'linux-x64-gnu']) {
    assert.ok(specs.some((s) => s.startsWith(`@resvg/resvg-js-${platform}@`)), `resvg for ${platform}`);
  }
  assert.ok(specs.some((s) => s.startsWith('tslab@')));
  assert.ok(!specs.some((s) => s.startsWith('@mnist-speedrun/')), 'the in-repository package needs no download');
});

test('a lockfile without a packages map is refused with what writes one', () => {
  assert.throws(() => lockfilePackages(JSON.stringify({ lockfileVersion: 1, dependencies: {} })), /npm 7 or later/);
});
