/**
 * The GPU kit's manifest and its size limit: every file of the kit with its size, and the refusal
 * when the whole folder is over what the machine it travels to accepts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What a lent GPU machine accepts in all: 64 MiB of files. */
export const KIT_SIZE_LIMIT = 64 * 1024 * 1024;

export interface KitFile {
  /** Path inside the kit, with '/' separators. */
  path: string;
  bytes: number;
}

/** Every regular file under `dir`, sorted by path, with its size. */
export function listKitFiles(dir: string): KitFile[] {
  const files: KitFile[] = [];
  const walk = (relative: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const inside = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(inside);
      else if (entry.isFile()) files.push({ path: inside, bytes: fs.statSync(path.join(dir, inside)).size });
    }
  };
  walk('');
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function totalBytes(files: readonly KitFile[]): number {
  return files.reduce((sum, file) => sum + file.bytes, 0);
}

/** '58.3 MiB': sizes as the limit is stated. */
export function formatMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** The manifest text: one line per file (bytes, path), then the total, which counts the manifest itself. */
export function formatManifest(files: readonly KitFile[], manifestName: string): string {
  const lines = files.map((file) => `${String(file.bytes).padStart(10)}  ${file.path}`);
  const body = `${lines.join('\n')}\n`;
  // the manifest is one of the files; its own size line is settled by trying lengths until stable
  for (let guess = body.length + 40; ; ) {
    const total = totalBytes(files) + guess;
    const text = `${body}${String(guess).padStart(10)}  ${manifestName}\n${String(total).padStart(10)}  total (${formatMiB(total)}, limit ${formatMiB(KIT_SIZE_LIMIT)})\n`;
    if (Buffer.byteLength(text) === guess) return text;
    guess = Buffer.byteLength(text);
  }
}

/** null when the kit fits, else the one-line reason naming its size and the limit. */
export function sizeRefusal(bytes: number, limit: number = KIT_SIZE_LIMIT): string | null {
  if (bytes <= limit) return null;
  return `the kit is ${formatMiB(bytes)} (${bytes} bytes), over the ${formatMiB(limit)} (${limit} bytes) a GPU machine accepts`;
}
