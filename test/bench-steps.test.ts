/** `npm run bench -- --steps LIST`: the steps a list names, and the one-line refusals of a bad one. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSteps } from '../bench/steps';
import { EXIT_CODES, UsageError } from '../lib/errors';
import { RECIPES } from '../lib/recipes';

const LAST = RECIPES.length;
const PAST = LAST + 1;

test('a step, a range, a list, and a list of ranges name the steps in ladder order, each once', () => {
  assert.deepEqual(parseSteps('8'), [8]);
  assert.deepEqual(parseSteps('3-8'), [3, 4, 5, 6, 7, 8]);
  assert.deepEqual(parseSteps('6-8'), [6, 7, 8]);
  assert.deepEqual(parseSteps('3,6,8'), [3, 6, 8]);
  assert.deepEqual(parseSteps('8,1-2, 6'), [1, 2, 6, 8]);
  assert.deepEqual(parseSteps('4-4,3-5'), [3, 4, 5]);
  assert.deepEqual(parseSteps('1-8'), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(parseSteps('3-9'), [3, 4, 5, 6, 7, 8, 9], 'step 9, ours, is on the ladder too');
  assert.deepEqual(parseSteps(`1-${LAST}`), RECIPES.map((r) => r.step));
});

test('anything else is a usage error (exit 2) naming the part and the allowed forms', () => {
  const refused = (spec: string, part: RegExp): void => {
    assert.throws(() => parseSteps(spec), (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(error.exitCode, EXIT_CODES.usage);
      assert.match(error.message, part);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  };
  const allowed = new RegExp(`a step 1-${LAST}, a range such as 3-${LAST}, or a list such as 3,6,${LAST}`);
  for (const spec of ['0', `${PAST}`, `3-${PAST}`, 'x', '1.5', '-3', '3-', '', '3,,8', '1-2-3', '+8']) {
    refused(spec, allowed);
  }
  refused('8-6', /the range '8-6' runs backwards: write 6-8/);
});

test('the bench refuses a bad --steps in one line, exit 2, before it times anything', () => {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  const cases: Array<[string[], RegExp]> = [
    [['--steps', `${PAST}`], new RegExp(`^error: --steps '${PAST}': '${PAST}' is not a step: give a step 1-${LAST}`)],
    [['--steps=3-x'], /^error: --steps '3-x': 'x' is not a step/],
    [['--steps'], /^error: --steps needs a list of steps: e\.g\. --steps 8, --steps 6-8 or --steps 3,6,8$/],
    [['--steps', '--no-pytorch'], /^error: --steps needs a list of steps/],
    [['--steps', '8', '--no-step08'], /^error: --steps runs only the side by side, which --no-step08 leaves out/],
    [['--steps', '8', '--rounds'], /^error: --rounds needs a number of rounds: e\.g\. --rounds 3$/],
    [['--steps', '8', '--rounds=0'], /^error: --rounds '0' is not a number of rounds: give a whole number from 1 to 30$/],
    [['--rounds', 'x', '--steps', '8'], /^error: --rounds 'x' is not a number of rounds/],
  ];
  for (const [args, message] of cases) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 2, `${args.join(' ')}: ${child.stderr}`);
    assert.match(child.stderr.trim(), message);
    assert.equal(child.stderr.trim().split('\n').length, 1, child.stderr);
    assert.equal(child.stdout, '', 'nothing found, spawned or timed');
  }
});
