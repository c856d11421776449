/**
 * The install step that keeps only this platform's Dawn binary in the webgpu package
 * (tools/trim-webgpu.cjs), on copies of the package's layout in temporary folders; the installed
 * package is only read, to check that its layout is still the one the step expects.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { tempDirFactory } from './temp-dirs';

const require = createRequire(import.meta.url);
const STEP = join(import.meta.dirname, '..', 'tools', 'trim-webgpu.cjs');

type Trim = { removed: Array<{ name: string; bytes: number }>; keep: string } | { skip: string; removed?: undefined };
const step = require(STEP) as {
  planTrim(packageDir: string, platform?: string, arch?: string): { remove: string[]; keep: string } | { skip: string };
  trimWebgpu(packageDir: string, platform?: string, arch?: string): Trim;
  describeTrim(result: Trim): string;
};

const tempDir = tempDirFactory('trim-webgpu-');

// The folders and files of webgpu 0.6.2's dist/, each file holding a few bytes.
const LAYOUT: Record<string, string[]> = {
  'darwin-universal': ['dawn.node'],
  'linux-arm64': ['dawn.node'],
  'linux-x64': ['dawn.node'],
  'win32-arm64': ['d3dcompiler_47.dll', 'dawn.node', 'dxcompiler-LICENSE.TXT', 'dxcompiler-ThirdPartyNotices.txt', 'dxcompiler.dll'],
  'win32-x64': ['d3dcompiler_47.dll', 'dawn.node', 'dxcompiler-LICENSE.TXT', 'dxcompiler-ThirdPartyNotices.txt', 'dxcompiler.dll'],
};

function packageCopy(layout: Record<string, string[]> = LAYOUT): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'webgpu', version: '0.6.2' }));
  writeFileSync(join(dir, 'index.js'), '// loads dist/<platform>-<arch>/dawn.node\n');
  for (const [folder, files] of Object.entries(layout)) {
    mkdirSync(join(dir, 'dist', folder), { recursive: true });
    for (const file of files) writeFileSync(join(dir, 'dist', folder, file), `${folder}/${file}`);
  }
  return dir;
}

const distOf = (dir: string): string[] => readdirSync(join(dir, 'dist')).sort();

test('linux x64: the other four platforms go, linux-x64/dawn.node stays as it was, and a second run removes nothing', () => {
  const dir = packageCopy();
  const first = step.trimWebgpu(dir, 'linux', 'x64');
  assert.deepEqual(distOf(dir), ['linux-x64']);
  assert.equal(readFileSync(join(dir, 'dist', 'linux-x64', 'dawn.node'), 'utf8'), 'linux-x64/dawn.node');
  assert.ok(existsSync(join(dir, 'index.js')));
  assert.deepEqual(first.removed?.map((r) => r.name), ['darwin-universal', 'linux-arm64', 'win32-arm64', 'win32-x64']);
  // each file holds its own path as text: win32-x64's five files
  const win = LAYOUT['win32-x64']!.reduce((sum, file) => sum + `win32-x64/${file}`.length, 0);
  assert.equal(first.removed?.find((r) => r.name === 'win32-x64')?.bytes, win);
  assert.match(step.describeTrim(first), /^trim-webgpu: kept dist\/linux-x64, removed darwin-universal, linux-arm64, win32-arm64, win32-x64 \(0 MB\)$/);

  const second = step.trimWebgpu(dir, 'linux', 'x64');
  assert.deepEqual(second.removed, []);
  assert.equal(step.describeTrim(second), 'trim-webgpu: only dist/linux-x64 is there; nothing to remove');
  assert.deepEqual(distOf(dir), ['linux-x64']);
});

test('macOS on either architecture keeps darwin-universal; Windows on arm64 keeps its DLLs beside dawn.node', () => {
  for (const arch of ['arm64', 'x64']) {
    const dir = packageCopy();
    step.trimWebgpu(dir, 'darwin', arch);
    assert.deepEqual(distOf(dir), ['darwin-universal']);
  }
  const dir = packageCopy();
  step.trimWebgpu(dir, 'win32', 'arm64');
  assert.deepEqual(distOf(dir), ['win32-arm64']);
  assert.deepEqual(readdirSync(join(dir, 'dist', 'win32-arm64')).sort(), [...LAYOUT['win32-arm64']!].sort());
});

test('a layout it does not know is left whole, with the reason: no dist/, no binary for this platform, an unexpected folder', () => {
  const noDist = tempDir();
  assert.match(step.describeTrim(step.trimWebgpu(noDist, 'linux', 'x64')), /^trim-webgpu: left as it is \(.* has no dist\/ folder\)$/);

  const other = packageCopy();
  const result = step.trimWebgpu(other, 'freebsd', 'x64');
  assert.match(step.describeTrim(result), /^trim-webgpu: left as it is \(no dist\/freebsd-x64\/dawn\.node for this platform in .*\)$/);
  assert.deepEqual(distOf(other), Object.keys(LAYOUT).sort());

  // the folder exists but holds no dawn.node: a new layout, so the step keeps its hands off
  const moved = packageCopy({ ...LAYOUT, 'linux-x64': ['libdawn.so'] });
  assert.ok('skip' in step.trimWebgpu(moved, 'linux', 'x64'));
  assert.deepEqual(distOf(moved), Object.keys(LAYOUT).sort());

  const unknown = packageCopy({ ...LAYOUT, shared: ['common.bin'] });
  assert.match(step.describeTrim(step.trimWebgpu(unknown, 'linux', 'x64')), /holds shared, not named <platform>-<arch>/);
  assert.deepEqual(distOf(unknown), [...Object.keys(LAYOUT), 'shared'].sort());
});

test('run as a script on a package folder, it prints one line on stderr and exits 0, also when the folder is no package', () => {
  const dir = packageCopy();
  const run = spawnSync(process.execPath, [STEP, dir], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, '');
  const keep = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
  if (keep in LAYOUT) {
    assert.match(run.stderr, new RegExp(`^trim-webgpu: kept dist/${keep}, removed .*\\n$`));
    assert.deepEqual(distOf(dir), [keep]);
  } else {
    assert.match(run.stderr, /^trim-webgpu: left as it is \(.*\)\n$/);
  }
  const empty = spawnSync(process.execPath, [STEP, tempDir()], { encoding: 'utf8' });
  assert.equal(empty.status, 0);
  assert.match(empty.stderr, /^trim-webgpu: left as it is \(.* has no dist\/ folder\)\n$/);
});

test('the installed webgpu package is laid out as the step expects (read only: nothing is removed)', (t) => {
  let packageDir: string;
  try {
    packageDir = dirname(require.resolve('webgpu/package.json'));
  } catch {
    t.skip('webgpu is not installed');
    return;
  }
  const plan = step.planTrim(packageDir);
  assert.ok(!('skip' in plan), `the installed package: ${'skip' in plan ? plan.skip : ''}`);
  assert.ok(existsSync(join(packageDir, 'dist', plan.keep, 'dawn.node')));
  assert.ok(!plan.remove.includes(plan.keep));
});

test('package.json runs the step after install', () => {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(manifest.scripts.postinstall ?? '', /node tools\/trim-webgpu\.cjs/);
});
