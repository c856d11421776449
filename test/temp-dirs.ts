/** Temporary folders for a test file: a fresh one per call, all removed when the file's tests end. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';

/** Returns `tempDir()`, which makes a new empty folder under one root named with `prefix`. */
export function tempDirFactory(prefix: string): () => string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let count = 0;
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  return () => {
    const dir = path.join(root, String(count++));
    fs.mkdirSync(dir);
    return dir;
  };
}
