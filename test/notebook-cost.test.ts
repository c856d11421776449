import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultOptions, formatCostTable, parseArgs } from '../tools/run-notebooks';

test("the cost table lists each notebook's mode and minutes, decimal points lined up, and the total", () => {
  const table = formatCostTable([
    { notebook: '01-baseline', mode: 'workshop', elapsedMs: 150_000, passed: true },
    { notebook: '08-final', mode: 'workshop', elapsedMs: 45_000, passed: false },
    { notebook: '03-smaller-net', mode: 'workshop', elapsedMs: 630_000, passed: true },
  ]);
  assert.equal(
    table,
    [
      'notebook        mode      minutes',
      '--------------  --------  -------',
      '01-baseline     workshop      2.5',
      '08-final        workshop      0.8  FAILED',
      '03-smaller-net  workshop     10.5',
      '--------------  --------  -------',
      'total                        13.8',
    ].join('\n'),
  );
});

test('the notebook runner takes --workshop and --quick, refuses both at once and either with --write', () => {
  const defaults = { ...defaultOptions({}), mode: 'full' as const };
  assert.equal(defaultOptions({ MNIST_SPEEDRUN_MODE: 'workshop' }).mode, 'workshop');
  assert.equal(parseArgs(['--workshop'], defaults).options.mode, 'workshop');
  assert.equal(parseArgs(['--quick'], defaults).options.mode, 'quick');
  assert.equal(parseArgs([], defaults).options.mode, 'full');
  assert.throws(() => parseArgs(['--quick', '--workshop'], defaults), { message: '--quick and --workshop ask for different modes: give one of them' });
  assert.throws(() => parseArgs(['--write', '--workshop'], defaults), { message: '--write saves reference outputs, which are full runs: not with --workshop' });
  assert.throws(() => parseArgs(['--write', '--quick'], defaults), { message: '--write saves reference outputs, which are full runs: not with --quick' });
  assert.throws(() => parseArgs(['--write'], { ...defaults, mode: 'workshop' }), /not with MNIST_SPEEDRUN_MODE=workshop/);
  assert.throws(() => parseArgs(['--fast'], defaults), { message: 'unknown option --fast: use --write, --workshop, --quick, --cell-timeout=SECONDS' });
});
