/**
 * `npm run workshop-cache -- DIR`: fills an npm cache folder with every package this project
 * installs, for every platform (the lockfile's optional per-platform packages too: resvg's and
 * esbuild's binaries for Windows, macOS and Linux), so that a teacher can hand the folder out and
 * attendees install with no network:
 *
 *   npm ci --offline --cache DIR
 *
 * Packages that live in this repository (`file:` entries such as packages/tfjs-slim) need no
 * download and are left out. See docs/workshop.md.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitWhenDone } from '../lib/exit';
import { UsageError } from '../lib/errors';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: npm run workshop-cache -- DIR   (an npm cache folder to fill; created if missing)';
/** Tarballs per `npm cache add` call: a few dozen keep the command line short on Windows too. */
const BATCH = 40;

interface LockEntry {
  /** The real name, where the folder name is an alias. */
  name?: string;
  version?: string;
  resolved?: string;
  link?: boolean;
}

/**
 * The registry packages a lockfile (v2 or v3) installs, as `name@version` specs, each once, in
 * lockfile order: every platform's optional packages included, links and in-repository folders
 * left out.
 */
export function lockfilePackages(lockfileText: string): string[] {
  const lock = JSON.parse(lockfileText) as { packages?: Record<string, LockEntry> };
  if (lock.packages === undefined) throw new UsageError('package-lock.json has no "packages" map: npm 7 or later writes it (lockfileVersion 2 or 3)');
  const specs = new Set<string>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.includes('node_modules/') || entry.link === true || entry.version === undefined) continue;
    if (entry.resolved !== undefined && !/^https?:\/\//.test(entry.resolved)) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    specs.add(`${name}@${entry.version}`);
  }
  return [...specs];
}

function parseArgs(argv: readonly string[]): string | 'help' {
  if (argv.includes('-h') || argv.includes('--help')) return 'help';
  const dirs = argv.filter((a) => !a.startsWith('-'));
  const unknown = argv.filter((a) => a.startsWith('-'));
  if (unknown.length > 0) throw new UsageError(`unknown option '${unknown[0]}': ${USAGE}`);
  if (dirs.length !== 1) throw new UsageError(`give one cache folder: ${USAGE}`);
  return resolve(dirs[0]!);
}

async function main(argv: readonly string[]): Promise<number> {
  const dir = parseArgs(argv);
  if (dir === 'help') {
    console.log(USAGE);
    return 0;
  }
  const urls = lockfilePackages(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  for (let i = 0; i < urls.length; i += BATCH) {
    const batch = urls.slice(i, i + BATCH);
    process.stderr.write(`\rworkshop-cache: ${Math.min(i + BATCH, urls.length)} of ${urls.length} packages`);
    const done = spawnSync(npm, ['cache', 'add', '--cache', dir, ...batch], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', shell: process.platform === 'win32' });
    if (done.status !== 0) {
      process.stderr.write('\n');
      throw new Error(`npm cache add failed (${done.stderr.trim().split('\n').pop() ?? `exit ${String(done.status)}`}): check the network, then run again (what is cached stays)`);
    }
  }
  process.stderr.write('\n');
  console.log(`${urls.length} packages cached in ${dir}`);
  console.log(`attendees, in their clone: npm ci --offline --cache ${dir}`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  exitWhenDone(main(process.argv.slice(2)));
}
