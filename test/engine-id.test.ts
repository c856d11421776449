/**
 * Which engine made a record: the wasm setup names the native module it loaded by its SHA-256,
 * records keep it, and no table or summary says that the seconds of two engines compare directly.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { comparisonBlocks, formatComparison, ladderEngineNote, ladderFrom, stepsText } from '../lib/comparison';
import { ENGINE_REVISION, engineDifference, engineTag, sameEngine, stockEngineId, wasmEngineId } from '../lib/engine-id';
import { ladderFrameRows } from '../lib/ladder-view';
import { appendToLedger, readLedger, recordProblem } from '../lib/ledger';
import { projectRoot } from '../lib/project-root';
import { RECIPES } from '../lib/recipes';
import { makeStepRecord } from '../lib/results';
import { summaryMarkdown } from '../lib/run-summary';
import { NATIVE_BUILDS } from '../lib/wasm/native-build';
import { setupWasm } from '../lib/wasm/setup';
import { ladderMarkdown } from '../tools/readme-tables';
import { makeRecord, SERVER, TEST_ENGINE, TEST_HASHES } from './ledger-records';

const OTHER_ENGINE = 'wasm: tuned kernels, native simd fedcba987654, XNNPACK pool 1; engine r1';
const seconds = (s: number) => [{ seed: 1, seconds: s, epochs: 1, testAccuracy: 99.1, validationAccuracy: null, partial: false }];

test('the wasm setup names the native module it loaded by the SHA-256 of that file, and the pool and kernel set', async () => {
  const tuned = await setupWasm({ threads: 1 });
  assert.ok(tuned.nativeBuild !== null);
  const file = join(projectRoot(), 'native', NATIVE_BUILDS[tuned.nativeBuild].plain);
  const sha = createHash('sha256').update(await readFile(file)).digest('hex');
  assert.equal(tuned.engine, `wasm: tuned kernels, native ${tuned.nativeBuild} ${sha.slice(0, 12)}, XNNPACK pool 1; engine r${ENGINE_REVISION}`);
  const composed = await setupWasm({ threads: 1, kernelSet: 'composed' });
  assert.equal(composed.engine, `wasm: composed kernels, XNNPACK pool 1; engine r${ENGINE_REVISION}`);
  assert.notEqual(engineTag(composed.engine), engineTag(tuned.engine));
});

test('engine ids: a module of other bytes or another pool is another engine; a record without one matches none', () => {
  const parts = { kernelSet: 'tuned', native: { build: 'simd', sha256: 'a'.repeat(64) }, xnnpackThreads: 1 };
  const id = wasmEngineId(parts);
  assert.equal(id, wasmEngineId({ ...parts }));
  assert.notEqual(id, wasmEngineId({ ...parts, native: { build: 'simd', sha256: 'b'.repeat(64) } }));
  assert.notEqual(id, wasmEngineId({ ...parts, xnnpackThreads: 2 }));
  assert.notEqual(id, wasmEngineId({ ...parts, native: { build: 'relaxed', sha256: 'a'.repeat(64) } }));
  assert.match(stockEngineId('webgpu'), /^webgpu: TensorFlow\.js kernels; engine r\d+$/);
  assert.equal(sameEngine({ engine: id }, { engine: id }), true);
  assert.equal(sameEngine({}, {}), false);
  assert.equal(sameEngine({ engine: id }, {}), false);
  assert.equal(engineDifference({ engine: id }, { engine: id }), null);
  assert.equal(engineDifference({ engine: id }, {}), 'its record names no engine (made before engines were recorded)');
  assert.equal(engineDifference({ engine: 'A' }, { engine: 'B' }), 'another engine (B, not A)');
  assert.match(engineTag(id), /^[0-9a-f]{8}$/);
  assert.notEqual(engineTag('A'), engineTag('B'));
  assert.equal(engineTag(undefined), 'not recorded');
});

test('a record keeps the engine it ran; the ledger reads it back and rejects an engine that is not text', async () => {
  const recipe = RECIPES[8]!;
  const run = {
    step: 9, slug: recipe.slug, net: recipe.net, seed: 1, backend: 'wasm', seconds: 5, epochs: 1, testAccuracy: 99.1, testLoss: 0.03,
    validationAccuracy: null, stoppedEarly: false, partial: false, history: [], batchLosses: [], learningRates: [],
  };
  const context = { machine: SERVER, source: 'cli' as const, mode: 'full' as const, dataHash: 'data-full' };
  const record = makeStepRecord(recipe, [run], { ...context, backend: { name: 'wasm', device: 'test CPU', threads: 2, engine: TEST_ENGINE } });
  assert.equal(record.engine, TEST_ENGINE);
  const dir = await mkdtemp(join(tmpdir(), 'engine-ledger-'));
  await appendToLedger(record, dir);
  assert.deepEqual((await readLedger(dir)).records.map((r) => r.engine), [TEST_ENGINE]);
  const older = makeStepRecord(recipe, [run], { ...context, backend: { name: 'wasm', device: 'test CPU', threads: 2 } });
  assert.equal('engine' in older, false);
  assert.equal(recordProblem(older), null);
  assert.equal(recordProblem({ ...record, engine: 7 }), 'engine is not text');
  assert.equal(recordProblem({ ...record, engine: '' }), 'engine is not text');
});

test('your previous step and the saved run of another engine are shown, but never said to compare directly', () => {
  const mine = makeRecord(8, '2026-03-01T00:00:00.000Z', { runs: seconds(3) });
  const myOlderStep7 = makeRecord(7, '2026-02-01T00:00:00.000Z', { runs: seconds(6), engine: undefined });
  const reference = [
    makeRecord(7, '2026-01-01T00:00:00.000Z', { runs: seconds(12), engine: undefined }),
    makeRecord(8, '2026-01-01T00:10:00.000Z', { runs: seconds(8), engine: OTHER_ENGINE }),
  ];
  const input = { record: mine, ledger: [myOlderStep7, mine], ledgerName: 'y', reference, referenceName: 'r', hashes: TEST_HASHES };
  const [yours, saved] = comparisonBlocks(input);
  assert.equal(yours!.table!.values.length, 2, 'the earlier engine\'s step 7 is still listed');
  assert.equal(
    yours!.note,
    'step 7 ran on the same machine, backend and threads, but its record names no engine (made before engines were recorded): the speed-up is not like for like',
  );
  assert.match(saved!.note, /^same machine, backend and threads as your run, but another engine \(wasm: .*fedcba987654.*, not wasm: .*0123456789ab.*\): the seconds do not compare directly; in it, step 7 ran .* names no engine/);
  assert.doesNotMatch(saved!.note, /compare directly$/);
  const text = formatComparison(input);
  assert.match(text, /the times do not compare directly/);
  assert.match(text, /step 7 ran on the same machine, backend and threads, but its record names no engine/);
  const summary = summaryMarkdown(input);
  assert.match(summary, /Against your step 7 on the same machine \(6\.00 s per run\): 2\.0 times faster, but its record names no engine .*, so the comparison is not like for like\./);
  assert.match(summary, /the same machine and setting, but another engine .*, so the seconds do not compare directly \(this run was 2\.7 times faster\)\./);
  assert.doesNotMatch(summary, /compare directly:/);
});

test('one engine throughout: the notes say that the seconds and the speed-up compare directly', () => {
  const mine = makeRecord(8, '2026-03-01T00:00:00.000Z', { runs: seconds(3) });
  const step7 = makeRecord(7, '2026-02-01T00:00:00.000Z', { runs: seconds(6) });
  const reference = [makeRecord(7, '2026-01-01T00:00:00.000Z'), makeRecord(8, '2026-01-01T00:10:00.000Z')];
  const [yours, saved] = comparisonBlocks({ record: mine, ledger: [step7, mine], ledgerName: 'y', reference, referenceName: 'r', hashes: TEST_HASHES });
  assert.equal(yours!.note, 'step 7 ran on the same machine, backend, threads and engine: the speed-up compares directly');
  assert.equal(saved!.note, 'same machine, backend, threads and engine as your run: the seconds compare directly');
});

test('a ladder keeps the rows of other engines and names them, in the notebook table and in the README', () => {
  const records = [
    makeRecord(1, '2026-01-01T00:00:00.000Z', { runs: seconds(100), engine: undefined }),
    makeRecord(2, '2026-01-01T01:00:00.000Z', { runs: seconds(50), engine: undefined }),
    makeRecord(3, '2026-01-01T02:00:00.000Z', { runs: seconds(20), engine: OTHER_ENGINE }),
    makeRecord(4, '2026-01-02T00:00:00.000Z', { runs: seconds(10) }),
  ];
  const rows = ladderFrom(records, TEST_HASHES);
  assert.deepEqual(rows.map((r) => [r.step, r.engine]), [[1, null], [2, null], [3, OTHER_ENGINE], [4, TEST_ENGINE]]);
  const note = ladderEngineNote(rows);
  assert.deepEqual(note?.otherSteps, [1, 2, 3]);
  assert.equal(
    note?.note,
    `step 4 ran engine ${engineTag(TEST_ENGINE)} (${TEST_ENGINE}); the records of steps 1-3 name another engine: ` +
      "their seconds and speed-ups are this machine's, but not like for like with step 4's",
  );
  assert.deepEqual(ladderFrameRows(rows).map((r) => r.engine), ['not recorded', 'not recorded', engineTag(OTHER_ENGINE), engineTag(TEST_ENGINE)]);
  const markdown = ladderMarkdown(rows);
  assert.match(markdown, /\| engine \|\n/);
  assert.match(markdown.split('\n').find((l) => l.startsWith('| 1 |'))!, /\| `not recorded` \|$/);
  assert.ok(markdown.endsWith(`\n\nEngine: ${note!.note}.`));
  // the same engine in every row: no note
  const same = ladderFrom([makeRecord(1, '2026-01-01T00:00:00.000Z'), makeRecord(4, '2026-01-02T00:00:00.000Z')], TEST_HASHES);
  assert.equal(ladderEngineNote(same), null);
  assert.doesNotMatch(ladderMarkdown(same), /Engine:/);
  // one other step: the note speaks of one record
  const single = ladderFrom([records[0]!, records[3]!], TEST_HASHES);
  assert.match(ladderEngineNote(single)!.note, /; the record of step 1 names no engine \(made before engines were recorded\): /);
  // steps without engines before a newest step without one either
  const unrecorded = ladderFrom(records.slice(0, 2), TEST_HASHES);
  assert.match(ladderEngineNote(unrecorded)!.note, /^the record of step 2 names no engine/);
});

test('stepsText writes runs of consecutive steps as ranges', () => {
  assert.equal(stepsText([1, 2, 3, 5, 7, 8]), '1-3, 5, 7-8');
  assert.equal(stepsText([4]), '4');
  assert.equal(stepsText([]), '');
});
