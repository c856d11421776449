/** A sweep saved as a study (results/studies/): read, checked, and shown as the sweep's own table. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../lib/errors';
import { projectRoot } from '../lib/project-root';
import { readSavedStudy, savedStudyProblem, savedStudyTable } from '../lib/saved-study';
import { tempDirFactory } from './temp-dirs';

const tempDir = tempDirFactory('saved-study-');
const EXPLORE = join(projectRoot(), 'results', 'studies', '2026-12-01-step9-explore-sweep.json');

const row = (variant: string, secondsMean: number, accuracyMean: number, reached99: number) => ({
  variant, id: variant, runs: 5, secondsMean, secondsStd: 0.25, accuracyMean, accuracyStd: 0.125, reached99,
});
const study = {
  study: 'a small study',
  command: 'npx mnist-speedrun sweep g.json',
  grid: 'g.json',
  machine: { cpu: 'Server CPU', cores: 2, memoryGiB: 24, platform: 'linux-x64', node: 'v20', tfjs: '4.22.0', loadAverage: 1 },
  backend: 'wasm',
  threads: 2,
  table: {
    kind: 'sweep-table', name: 'g', mode: 'full', step: 8, seeds: [1, 2, 3, 4, 5], validation: 5000, date: '2026-12-01T19:27:45.385Z',
    rows: [row('slow and sure', 8, 99.2, 5), row('fast, below', 3, 98.5, 0), row('fast and sure', 4, 99.1, 4)],
  },
};

test('the table: variants reaching 99% first, fastest first, each with time and validation accuracy mean ± std and seeds ≥ 99%', () => {
  const table = savedStudyTable(study as Parameters<typeof savedStudyTable>[0]);
  assert.deepEqual(table.columns, ['variant', 'runs', 'time per run (mean ± std)', 'validation acc % (mean ± std)', 'seeds >= 99%', '']);
  assert.deepEqual(table.values.map((r) => (r as string[])[0]), ['fast and sure', 'slow and sure', 'fast, below']);
  assert.deepEqual(table.values[0], ['fast and sure', '5', '4.00 s ± 250 ms', '99.10 ± 0.13', '4 of 5', '']);
  assert.equal((table.values[2] as string[])[5], 'below 99%');
  assert.equal(
    table.caption,
    'a small study. Around step 8, seeds 1-5, validation on 5,000 held-out training images, full mode; ran on wasm, 2 threads, on Server CPU, 2 cores, 24 GiB, linux-x64; 2026-12-01',
  );
});

test('the committed step-9 exploration reads as a study of 9 variants around step 8', async () => {
  const saved = await readSavedStudy(EXPLORE);
  assert.equal(saved.table.step, 8);
  assert.equal(saved.table.rows.length, 9);
  const table = savedStudyTable(saved);
  assert.equal(table.values.length, 9);
  assert.match(table.caption, /on AMD EPYC, 2 cores, 24 GiB, linux-x64; 2026-12-01$/);
});

test('a missing, foreign or malformed study file is refused in one line naming it (exit 2)', async () => {
  const dir = tempDir();
  const refused = async (path: string, message: RegExp): Promise<void> => {
    await assert.rejects(readSavedStudy(path), (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(error.exitCode, 2);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  };
  await refused(join(dir, 'none.json'), /cannot read the saved study .*none\.json: ENOENT; give the path of a file in results\/studies\//);
  await writeFile(join(dir, 'bad.json'), '{ "study": ');
  await refused(join(dir, 'bad.json'), /bad\.json is not valid JSON/);
  const noRows = { ...study, table: { ...study.table, rows: [{ ...row('x', 1, 99, 1), secondsMean: '1 s' }] } };
  await writeFile(join(dir, 'rows.json'), JSON.stringify(noRows));
  await refused(join(dir, 'rows.json'), /rows\.json is not a saved sweep study: table\.rows\[0\]\.secondsMean is not a number/);
  assert.match(savedStudyProblem({ ...study, table: { ...study.table, kind: 'step-result' } }) ?? '', /not a sweep table/);
  assert.match(savedStudyProblem({ ...study, machine: null }) ?? '', /machine is missing/);
  assert.equal(savedStudyProblem(study), null);
});
