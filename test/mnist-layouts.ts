/**
 * Test support: the forms MNIST reaches users in, built in temp folders from the real files —
 * the original .gz archives, the same data un-gzipped (torchvision's MNIST/raw, Kaggle), re-gzipped
 * at another level (other gzip bytes, same data), Kaggle's dot names, torchvision's folder tree —
 * and Fashion-MNIST, a genuinely different dataset with the same file names and shapes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gunzipSync, gzipSync } from 'node:zlib';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const mnistDir = path.resolve(repoRoot, process.env.MNIST_DIR ?? '../shared/data/mnist');

/** Debian's dataset-fashion-mnist puts the four Fashion-MNIST archives here. */
export const FASHION_DIR = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
export const fashionSkip: string | false = fs.existsSync(path.join(FASHION_DIR, 't10k-labels-idx1-ubyte.gz'))
  ? false
  : `Fashion-MNIST not found in ${FASHION_DIR} (apt-get install dataset-fashion-mnist)`;

export const GZ_NAMES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'] as const;
/** torchvision's MNIST/raw and Kaggle's "mnist-dataset" hold the same data un-gzipped. */
export const RAW_NAMES = GZ_NAMES.map((name) => name.slice(0, -'.gz'.length));
/** Kaggle's other spelling: train-images.idx3-ubyte. */
export const DOT_NAMES = RAW_NAMES.map((name) => name.replace(/-(idx\d-ubyte)$/, '.$1'));

/** The un-gzipped IDX bytes of one of the four files of `from` (default: the real MNIST). */
export function rawIdx(gzName: string, from: string = mnistDir): Buffer {
  return gunzipSync(fs.readFileSync(path.join(from, gzName)));
}

/** The bodies (headers cut off) of the real MNIST files, decoded here with zlib, not by the library. */
export function mnistBodies(from: string = mnistDir): { trainImages: Buffer; trainLabels: Buffer; testImages: Buffer; testLabels: Buffer } {
  return {
    trainImages: rawIdx(GZ_NAMES[0], from).subarray(16),
    trainLabels: rawIdx(GZ_NAMES[1], from).subarray(8),
    testImages: rawIdx(GZ_NAMES[2], from).subarray(16),
    testLabels: rawIdx(GZ_NAMES[3], from).subarray(8),
  };
}

/** Writes the four files of `from` un-gzipped into `dir` under `names` (RAW_NAMES or DOT_NAMES). */
export function writeUncompressed(dir: string, names: readonly string[] = RAW_NAMES, from: string = mnistDir): string {
  fs.mkdirSync(dir, { recursive: true });
  GZ_NAMES.forEach((gzName, i) => fs.writeFileSync(path.join(dir, names[i]!), rawIdx(gzName, from)));
  return dir;
}

/** Writes the four files gzipped again at level 1: other gzip bytes (asserted), the same data. */
export function writeRegzipped(dir: string, from: string = mnistDir): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of GZ_NAMES) {
    const original = fs.readFileSync(path.join(from, name));
    const again = gzipSync(gunzipSync(original), { level: constants.Z_BEST_SPEED });
    if (again.equals(original)) throw new Error(`re-gzipping ${name} gave the same bytes`);
    fs.writeFileSync(path.join(dir, name), again);
  }
  return dir;
}

/** Copies the four .gz files of `from` into `dir` unchanged. */
export function writeOriginal(dir: string, from: string = mnistDir): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of GZ_NAMES) fs.copyFileSync(path.join(from, name), path.join(dir, name));
  return dir;
}

/**
 * torchvision's tree under `root`: `root/MNIST/raw/` holding the .gz archives and their
 * un-gzipped copies, as `torchvision.datasets.MNIST(root, download=True)` leaves it.
 */
export function writeTorchvisionTree(root: string, folder: string = 'MNIST', from: string = mnistDir): string {
  const raw = path.join(root, folder, 'raw');
  writeOriginal(raw, from);
  writeUncompressed(raw, RAW_NAMES, from);
  return root;
}

/** Every file under `dir` with its bytes, to show that nothing was deleted or changed. */
export function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, full), fs.readFileSync(full));
  }
  return files;
}

/** True when `dir` holds exactly the files of `before`, byte for byte. */
export function sameFiles(dir: string, before: Map<string, Buffer>): boolean {
  const now = snapshot(dir);
  return now.size === before.size && [...before].every(([name, bytes]) => now.get(name)?.equals(bytes) === true);
}
