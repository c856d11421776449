/** The ladders a notebook shows: yours, then the saved reference; while re-recording, the reference as this machine has it. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { currentRecipeHashes } from '../lib/comparison';
import type { MnistArrays } from '../lib/data';
import { ladders, type Session } from '../lib/notebook';
import { LAPTOP, makeRecord, SERVER } from './ledger-records';
import { tempDirFactory } from './temp-dirs';

const tempDir = tempDirFactory('notebook-ladders-');
const hashes = currentRecipeHashes('full');

/** A session on SERVER that records into `ledgerDir`; ladders() reads no images. */
function session(ledgerDir: string, recordsReference: boolean): Session {
  return {
    backend: { name: 'wasm', label: 'WebAssembly', device: 'test CPU', skipped: [], threads: 2, requested: 'auto' },
    machine: SERVER,
    data: {} as MnistArrays,
    mode: 'full',
    ledgerDir,
    recordsReference,
    dataHash: 'data-full',
  };
}

test('while re-recording, the saved ladder is this machine\'s, not the other machine\'s that still holds a higher step', async () => {
  const dir = tempDir();
  const write = (name: string, record: ReturnType<typeof makeRecord>): void => writeFileSync(join(dir, `${name}.json`), JSON.stringify(record));
  // the laptop recorded steps 1-9 yesterday; this server has re-recorded steps 1-8 today
  for (let step = 1; step <= 9; step++) write(`laptop-${step}`, makeRecord(step, `2026-12-02T10:0${step}:00.000Z`, { machine: LAPTOP, recipeHash: hashes.get(step)! }));
  for (let step = 1; step <= 8; step++) write(`server-${step}`, makeRecord(step, `2026-12-03T10:0${step}:00.000Z`, { recipeHash: hashes.get(step)! }));
  const shown = await ladders(session(dir, true));
  assert.equal(shown.length, 1, 'one ladder while re-recording');
  assert.match(shown[0]!.title, /^saved reference ladder \(.*Server CPU/);
  assert.deepEqual(shown[0]!.rows.map((r) => r.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(shown[0]!.rows.every((r) => r.where.includes('Server CPU')));
});
