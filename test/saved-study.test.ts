/** A sweep saved as a study (results/studies/): read, checked, and shown as the sweep's own table. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../lib/errors';
import { projectRoot } from '../lib/project-root';
import { comparedWithSession, readSavedStudy, savedStudyOf, savedStudyProblem, savedStudyTable, showStudyChart } from '../lib/saved-study';
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
  const table = savedStudyTable(savedStudyOf(study));
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

// ---- the format `npx mnist-speedrun sweep GRID.json --save-table FILE` writes: the sweep table itself ----

const where = {
  cpu: 'Server CPU', cores: 2, platform: 'linux-x64', node: 'v20', tfjs: '4.22.0', backend: 'wasm', threads: 2,
  loadAverage: { min: 1.46, max: 6.08 }, settings: 1,
};
const { kind, name, mode, step, seeds, validation, rows } = study.table;
const saved = { kind, name, mode, step, seeds, validation, date: '2026-12-02T08:15:00.000Z', where, rows };

test('a table saved by sweep --save-table is read and captioned with its machine, backend, threads, date and load while it ran', async () => {
  const path = join(tempDir(), 'g.json');
  await writeFile(path, JSON.stringify(saved, null, 1));
  const read = await readSavedStudy(path);
  assert.deepEqual(read.machine, { cpu: 'Server CPU', cores: 2, memoryGiB: null, platform: 'linux-x64' });
  assert.equal(read.backend, 'wasm');
  assert.equal(read.threads, 2);
  assert.deepEqual(read.loadAverage, { min: 1.46, max: 6.08 });
  assert.equal(read.table.step, 8);
  assert.equal(
    savedStudyTable(read).caption,
    'the sweep g. Around step 8, seeds 1-5, validation on 5,000 held-out training images, full mode; ran on wasm, 2 threads, on Server CPU, 2 cores, linux-x64; 2026-12-02; ' +
      'load 1.5-6.1 while it ran: times from a busy machine compare loosely',
  );
});

test('both formats give the same rows and the same table', async () => {
  const dir = tempDir();
  await writeFile(join(dir, 'wrapped.json'), JSON.stringify(study));
  await writeFile(join(dir, 'table.json'), JSON.stringify(saved));
  const [wrapped, table] = await Promise.all([readSavedStudy(join(dir, 'wrapped.json')), readSavedStudy(join(dir, 'table.json'))]);
  assert.deepEqual(table.table.rows, wrapped.table.rows);
  assert.deepEqual(table.table.rows.map((r) => r.variant), ['slow and sure', 'fast, below', 'fast and sure']);
  assert.deepEqual(savedStudyTable(table).values, savedStudyTable(wrapped).values);
  // the wrapped form recorded one load reading, not the range while the runs ran: nothing is said about load
  assert.equal(wrapped.loadAverage, null);
  assert.doesNotMatch(savedStudyTable(wrapped).caption, /load/);
});

test('the caption: load said without alarm on an idle machine, runs from several machines or backends flagged, an unrecorded machine said so', () => {
  const idle = savedStudyOf({ ...saved, where: { ...where, cores: 16, loadAverage: { min: 0.2, max: 0.94 } } });
  assert.match(savedStudyTable(idle).caption, /; load 0\.2-0\.9 while it ran$/);
  const mixed = savedStudyOf({ ...saved, where: { ...where, settings: 3 } });
  assert.match(savedStudyTable(mixed).caption, /; the runs come from 3 machines or backends \(the first is named\), so their times do not compare$/);
  // a wrapped study whose table carries the sweep's `where` gives its load too
  const wrappedWithWhere = savedStudyOf({ ...study, table: { ...study.table, where: { ...where, loadAverage: { min: 0.5, max: 1.75 } } } });
  assert.match(savedStudyTable(wrappedWithWhere).caption, /linux-x64; 2026-12-01; load 0\.5-1\.8 while it ran$/);
  const none = savedStudyOf({ ...saved, where: null });
  assert.match(savedStudyTable(none).caption, /; ran on a machine and backend not recorded; 2026-12-02$/);
  assert.match(comparedWithSession(none, { machine: { cpu: 'Server CPU', cores: 2, memoryGiB: 24, platform: 'linux-x64' } }), /not recorded: compare the ratios/);
  const session = { machine: { cpu: 'Server CPU', cores: 2, memoryGiB: 24, platform: 'linux-x64' } };
  assert.match(comparedWithSession(savedStudyOf(saved), session), /^the same kind of machine/);
  assert.match(comparedWithSession(savedStudyOf(saved), { machine: { ...session.machine, cores: 4 } }), /^another machine/);
});

test('a malformed sweep table is refused in one line naming the field', async () => {
  const problem = (value: unknown): string => savedStudyProblem(value) ?? 'accepted';
  assert.equal(problem(saved), 'accepted');
  assert.equal(problem({ ...saved, kind: 'step-result' }), `kind is "step-result", not 'sweep-table'`);
  const { where: _, ...withoutWhere } = saved;
  assert.match(problem(withoutWhere), /^where is missing/);
  assert.equal(problem({ ...saved, where: { ...where, loadAverage: { min: 1 } } }), 'where.loadAverage is missing its min or max');
  assert.equal(problem({ ...saved, where: { ...where, settings: 0 } }), 'where.settings is missing or not a whole number from 1');
  assert.equal(problem({ ...saved, where: { ...where, backend: undefined } }), 'where.backend is missing or not text');
  assert.equal(problem({ ...saved, where: 'here' }), 'where is not an object (nor null)');
  assert.equal(problem({ ...saved, rows: [rows[0], { ...rows[1], runs: '5' }] }), 'rows[1].runs is not a number');
  assert.equal(problem({ ...saved, date: 'yesterday' }), 'date is missing or not a date');
  assert.equal(problem({ ...saved, seeds: ['1'] }), 'seeds is missing or not a list of seeds');
  const path = join(tempDir(), 'broken.json');
  await writeFile(path, JSON.stringify({ ...saved, where: { ...where, cores: 'two' } }));
  await assert.rejects(readSavedStudy(path), (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.match(error.message, /broken\.json is not a saved sweep study: where\.cores is missing or not a whole number; give a file saved by `sweep --save-table`/);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
});

test('the chart of a study refuses a highlight naming no variant before drawing anything', async () => {
  const session = { machine: { cpu: 'Server CPU', cores: 2, memoryGiB: 24, platform: 'linux-x64' } };
  await assert.rejects(showStudyChart(session, EXPLORE, { highlight: ['(step 8 unchanged)', 'batchSize=256'] }), (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.match(error.message, /^highlight names 'batchSize=256', which is no variant of the sweep; give variant labels as its table shows them, e\.g\. 'net\.c1\.out=16 /);
    return true;
  });
});
