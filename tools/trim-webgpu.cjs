/**
 * Install step (`postinstall`): keeps only this platform's Dawn binary in the `webgpu` package.
 *
 * webgpu 0.6 ships a prebuilt Dawn for five platforms under dist/<platform>-<arch>/ (about 130 MB
 * in all) and loads dist/${process.platform}-${arch}/dawn.node at run time, with arch 'universal'
 * on macOS. This step removes the other platforms' folders. It is plain Node and idempotent, and
 * it does nothing, saying so in one line, when the package is absent or laid out otherwise (no
 * dist/, no folder for this platform, or a folder whose name is not <platform>-<arch>): it never
 * removes the binary the running platform loads. `npm ci` puts every platform back.
 * `node tools/trim-webgpu.cjs [packageDir]` runs it by hand (default: the installed package).
 */
'use strict';
const { existsSync, readdirSync, rmSync, statSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** Node's platform names, as the package names its folders. */
const PLATFORMS = ['aix', 'android', 'darwin', 'freebsd', 'linux', 'openbsd', 'sunos', 'win32', 'cygwin', 'netbsd'];
const PLATFORM_FOLDER = new RegExp(`^(${PLATFORMS.join('|')})-[a-z0-9]+$`);

/** The folder under dist/ that the package loads on `platform`/`arch` (as webgpu's index.js says). */
function runningFolder(platform, arch) {
  return `${platform}-${platform === 'darwin' ? 'universal' : arch}`;
}

/** Bytes under `path`, files and folders alike (links not followed). */
function sizeOf(path) {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined) return 0;
  if (!stats.isDirectory()) return stats.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

/**
 * What trimming `packageDir` would remove, without removing anything: `{ remove: [names], keep }`
 * when the layout is the expected one, else `{ skip: reason }`.
 */
function planTrim(packageDir, platform = process.platform, arch = process.arch) {
  const dist = join(packageDir, 'dist');
  if (!existsSync(dist)) return { skip: `${packageDir} has no dist/ folder` };
  const keep = runningFolder(platform, arch);
  if (!existsSync(join(dist, keep, 'dawn.node'))) return { skip: `no dist/${keep}/dawn.node for this platform in ${packageDir}` };
  const folders = readdirSync(dist).filter((name) => statSync(join(dist, name)).isDirectory());
  const unknown = folders.filter((name) => !PLATFORM_FOLDER.test(name));
  if (unknown.length > 0) return { skip: `dist/ of ${packageDir} holds ${unknown.join(', ')}, not named <platform>-<arch>` };
  return { remove: folders.filter((name) => name !== keep).sort(), keep };
}

/**
 * Removes the other platforms' folders from `packageDir`/dist. Returns
 * `{ removed: [{ name, bytes }], keep }`, or `{ skip: reason }` having removed nothing.
 */
function trimWebgpu(packageDir, platform = process.platform, arch = process.arch) {
  const plan = planTrim(packageDir, platform, arch);
  if (plan.skip !== undefined) return plan;
  const removed = plan.remove.map((name) => {
    const path = join(packageDir, 'dist', name);
    const bytes = sizeOf(path);
    rmSync(path, { recursive: true, force: true });
    return { name, bytes };
  });
  return { removed, keep: plan.keep };
}

/** The one line the step prints. */
function describeTrim(result) {
  if (result.skip !== undefined) return `trim-webgpu: left as it is (${result.skip})`;
  if (result.removed.length === 0) return `trim-webgpu: only dist/${result.keep} is there; nothing to remove`;
  const mb = result.removed.reduce((sum, r) => sum + r.bytes, 0) / 1e6;
  return `trim-webgpu: kept dist/${result.keep}, removed ${result.removed.map((r) => r.name).join(', ')} (${mb.toFixed(0)} MB)`;
}

module.exports = { runningFolder, planTrim, trimWebgpu, describeTrim, sizeOf };

if (require.main === module) {
  // resolved from this project, wherever npm placed the package (hoisted or nested)
  let packageDir = process.argv[2];
  try {
    packageDir ??= dirname(require.resolve('webgpu/package.json', { paths: [join(__dirname, '..')] }));
  } catch {
    process.stderr.write('trim-webgpu: the webgpu package is not installed; nothing to do\n');
    process.exit(0);
  }
  try {
    process.stderr.write(describeTrim(trimWebgpu(packageDir)) + '\n');
  } catch (error) {
    // a smaller install is a convenience: failing to trim never fails the install
    process.stderr.write(`trim-webgpu: left as it is (${error instanceof Error ? error.message : String(error)})\n`);
  }
}
