import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parseCli } from '../cli/args';
import { readLedger } from '../lib/ledger';
import { cli } from './run-cli';
import { tempDirFactory } from './temp-dirs';

const tempDir = tempDirFactory('sweep-cli-');
const FAST = ['--quick', '--no-warm-up', '--backend', 'wasm'];

function gridFile(dir: string, name: string, grid: unknown): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(grid));
  return path;
}

test('sweep reads its grid path, --name, --seeds, --table and --save-table; options it cannot use are refused', () => {
  const options = parseCli(['sweep', 'g.json', '--workshop', '--name', 'mine', '--seeds', '4', '--table', '--json'], {});
  assert.equal(options.command, 'sweep');
  assert.equal(options.mode, 'workshop');
  assert.deepEqual(options.sweep, { grid: 'g.json', name: 'mine', seeds: 4, tableOnly: true, saveTable: undefined });
  assert.equal(parseCli(['sweep', 'g.json', '--save-table', 'results/studies/s.json'], {}).sweep?.saveTable, 'results/studies/s.json');
  assert.equal(options.json, true);
  const refusals: Array<[string[], RegExp]> = [
    [['sweep'], /^sweep needs a grid file: mnist-speedrun sweep GRID\.json/],
    [['sweep', 'g.json', 'h.json'], /^unexpected argument 'h\.json'/],
    [['sweep', 'g.json', '--set', 'batchSize=512'], /^sweep takes no --set: write the changes in the grid file/],
    [['sweep', 'g.json', '--validation'], /^sweep takes no --validation: a sweep always holds out a validation split/],
    [['sweep', 'g.json', '--runs', '3'], /^sweep takes no --runs: give --seeds S/],
    [['sweep', 'g.json', '--seeds', '0'], /--seeds/],
    [['train', '--step', '8', '--name', 'x'], /^--name is for sweep/],
    [['train', '--step', '8', '--table'], /^--table is for sweep/],
    [['train', '--step', '8', '--save-table', 'x.json'], /^--save-table is for sweep \(sweep GRID\.json --save-table FILE\), not train/],
  ];
  for (const [argv, message] of refusals) assert.throws(() => parseCli(argv, {}), { message }, argv.join(' '));
});

test('a bad variant stops the real CLI with exit 2 and one line naming it, before anything is trained or recorded', async () => {
  const dir = tempDir();
  const ledger = tempDir();
  const grid = gridFile(dir, 'bad', { from: 8, seeds: 2, variants: [{ batchSize: 512 }, { 'schedule.maxLr': -1 }] });
  const { code, stdout, stderr } = await cli(['sweep', grid, ...FAST], { MNIST_SPEEDRUN_LEDGER: ledger }, undefined, 60_000);
  assert.equal(code, 2, stderr);
  assert.match(stderr, /^error: .*bad\.json: variant 2 \(schedule\.maxLr=-1\): schedule\.maxLr=-1 is not allowed: .*\n$/);
  assert.equal(stdout, '');
  assert.equal(existsSync(join(ledger, 'quick')), false);
});

test('sweep trains each variant over the seeds on a validation split, records every run, and a rerun trains nothing', async () => {
  const dir = tempDir();
  const ledger = tempDir();
  const env = { MNIST_SPEEDRUN_LEDGER: ledger };
  const grid = gridFile(dir, 'two', { from: 8, seeds: 2, variants: [{ batchSize: 512 }, { batchSize: 128 }] });

  const first = await cli(['sweep', grid, ...FAST], env);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /^sweep two: 2 variants of step 8 x 2 seeds, judged on 512 held-out training images/m);
  assert.match(first.stderr, /^variant 2\/2 seed 2\/2 \(run 4\/4; elapsed .*, ETA .*\): training$/m);
  assert.doesNotMatch(first.stderr, /resuming/);
  assert.match(first.stderr, /^variant 1\/2 seed 1\/2 \(run 1\/4; .*\): finished in \d+\.\d\d s, validation accuracy \d+\.\d\d%$/m);
  assert.doesNotMatch(first.stderr, /test accuracy/);

  const sweepDir = join(ledger, 'quick', 'sweeps', 'two');
  const { records, problems } = await readLedger(sweepDir);
  assert.deepEqual(problems, []);
  assert.equal(records.length, 4);
  const ids = new Set(records.map((r) => r.sweep?.variant));
  assert.equal(ids.size, 2);
  for (const record of records) {
    assert.equal(record.mode, 'quick');
    assert.equal(record.sweep?.name, 'two');
    assert.equal(record.sweep?.validation, 512);
    assert.equal(record.runs.length, 1);
    // judged on the validation split: the test set is never evaluated
    assert.equal(record.runs[0]!.testAccuracy, null);
    assert.equal(typeof record.runs[0]!.validationAccuracy, 'number');
  }
  assert.deepEqual(records.map((r) => `${r.overrides?.batchSize}:${r.runs[0]!.seed}`).sort(), ['128:1', '128:2', '512:1', '512:2']);
  // nothing in the mode's own ledger or its tries
  assert.deepEqual((await readLedger(join(ledger, 'quick'))).records, []);

  const table = first.stdout.split('\n');
  assert.match(table[0]!, /^sweep two: step 8, quick mode, validation accuracy on 512 held-out training images \(the test set is not used\)$/);
  assert.match(first.stdout, /^batchSize=512 +2 +\S+ \S+ ± .* of 2/m);
  assert.match(first.stdout, /^batchSize=128 +2 /m);
  const saved = JSON.parse(readFileSync(join(ledger, 'quick', 'sweeps', 'two.table.json'), 'utf8')) as { kind: string; rows: Array<{ variant: string; runs: number }> };
  assert.equal(saved.kind, 'sweep-table');
  assert.deepEqual(saved.rows.map((r) => r.runs), [2, 2]);
  assert.deepEqual(saved.rows.map((r) => r.variant).sort(), ['batchSize=128', 'batchSize=512']);

  const again = await cli(['sweep', grid, ...FAST, '--json'], env);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /^resuming: 4 of 4 runs already recorded$/m);
  assert.match(again.stderr, /^nothing to train$/m);
  assert.doesNotMatch(again.stderr, /: training$|^wasm:/m);
  assert.equal((await readLedger(sweepDir)).records.length, 4);
  const rows = JSON.parse(again.stdout) as Array<{ variant: string; runs: number }>;
  assert.deepEqual(rows.map((r) => r.variant).sort(), ['batchSize=128', 'batchSize=512']);
  assert.deepEqual(rows.map((r) => r.runs), [2, 2]);

  // one more seed trains only the new seed of each variant
  const more = await cli(['sweep', grid, '--seeds', '3', '--quick', '--no-warm-up', '--backend', 'wasm'], env);
  assert.equal(more.code, 0, more.stderr);
  assert.match(more.stderr, /^quick mode: 3 seeds capped at 2$/m);
  assert.match(more.stderr, /^resuming: 4 of 4 runs already recorded$/m);

  const study = join(dirname(sweepDir), 'study.json');
  const tableOnly = await cli(['sweep', grid, '--quick', '--table', '--save-table', study], env);
  assert.equal(tableOnly.code, 0, tableOnly.stderr);
  assert.doesNotMatch(tableOnly.stderr, /: training$|^wasm:/m);
  assert.match(tableOnly.stdout, /^batchSize=512 +2 /m);
  // the saved copy: the rows, and where they ran, read from the records
  const copy = JSON.parse(await readFile(study, 'utf8')) as { kind: string; rows: Array<{ runs: number }>; where: { cpu: string; backend: string; settings: number } };
  const recorded = (await readLedger(sweepDir)).records;
  assert.equal(copy.kind, 'sweep-table');
  assert.deepEqual(copy.rows.map((r) => r.runs), [2, 2]);
  assert.deepEqual([copy.where.cpu, copy.where.backend, copy.where.settings], [recorded[0]!.machine.cpu, recorded[0]!.backendLabel ?? recorded[0]!.backend, 1]);
  assert.match(tableOnly.stderr, /^and in .*study\.json$/m);
});

test('Ctrl-C stops the sweep with the finished runs recorded; the same command resumes where it stopped', async () => {
  const dir = tempDir();
  const ledger = tempDir();
  const env = { MNIST_SPEEDRUN_LEDGER: ledger };
  // batches of 16: enough batches per run for the interruption to land inside one
  const grid = gridFile(dir, 'stop', { from: 8, seeds: 2, variants: [{ batchSize: 16 }, { batchSize: 32 }] });
  let sent = false;
  const stopped = await cli(['sweep', grid, ...FAST], env, (text, kill) => {
    if (!sent && /run 2\/4.*: training/.test(text)) {
      sent = true;
      kill();
    }
  });
  assert.equal(stopped.code, 130, stopped.stderr);
  const kept = (await readLedger(join(ledger, 'quick', 'sweeps', 'stop'))).records.length;
  assert.ok(kept >= 1 && kept < 4, `${kept} runs recorded`);
  assert.match(stopped.stderr, new RegExp(`^interrupted: ${kept} of 4 runs recorded`, 'm'));

  const resumed = await cli(['sweep', grid, ...FAST], env);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`^resuming: ${kept} of 4 runs already recorded$`, 'm'));
  assert.doesNotMatch(resumed.stderr, /run 1\/4/);
  assert.equal((await readLedger(join(ledger, 'quick', 'sweeps', 'stop'))).records.length, 4);
});

test('the notebook API: runSweep trains and records a grid in the session\'s mode, sweepTable shows its rows', async () => {
  const ledger = tempDir();
  const script = [
    "import { startSession, runSweep, sweepTable } from './lib/notebook.ts';",
    "import { show } from './lib/table-notebook.ts';",
    'const session = await startSession();',
    "const rows = await runSweep(session, { from: 8, seeds: 1, variants: [{ batchSize: 512 }, { batchSize: 256 }] }, { name: 'nb' });",
    "show(sweepTable(rows), 'nb sweep');",
    "console.log('ROWS ' + JSON.stringify(rows.map((r) => [r.variant, r.runs])));",
  ].join('\n');
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, MNIST_DIR: process.env.MNIST_DIR ?? '../shared/data/mnist', MNIST_SPEEDRUN_MODE: 'quick', MNIST_SPEEDRUN_BACKEND: 'wasm', MNIST_SPEEDRUN_LEDGER: ledger },
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /^variant 2 of 2 \(batchSize=256\), seed 1: run 2 of 2$/m);
  assert.match(child.stdout, /^nb sweep$/m);
  assert.match(child.stdout, /^batchSize=512 +1 /m);
  const rows = JSON.parse(/^ROWS (.*)$/m.exec(child.stdout)![1]!) as Array<[string, number]>;
  assert.deepEqual(rows.map(([variant, runs]) => [variant, runs]).sort(), [['batchSize=256', 1], ['batchSize=512', 1]]);
  const { records } = await readLedger(join(ledger, 'quick', 'sweeps', 'nb'));
  assert.equal(records.length, 2);
  assert.ok(records.every((r) => r.source === 'notebook' && r.runs[0]!.testAccuracy === null));
});
