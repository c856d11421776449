import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chosenFiles, nodeTestArguments, suiteFiles, testConcurrency } from '../tools/run-tests';
import { tempDirFactory } from './temp-dirs';

const tempDir = tempDirFactory('run-tests-');

test('npm test runs at least two files at once, else one fewer than the cores', () => {
  assert.equal(testConcurrency(1), 2);
  assert.equal(testConcurrency(2), 2);
  assert.equal(testConcurrency(3), 2);
  assert.equal(testConcurrency(8), 7);
});

test('the suite is every *.test.ts in the folder, sorted; support files and subfolders are not run', () => {
  const dir = tempDir();
  for (const name of ['b.test.ts', 'a.test.ts', 'helper.ts', 'child.cjs']) writeFileSync(join(dir, name), '');
  mkdirSync(join(dir, 'nested.test.ts'));
  assert.deepEqual(suiteFiles(dir), [join(dir, 'a.test.ts'), join(dir, 'b.test.ts')]);
});

test('files named on the command line run instead of the suite; a missing one is refused by name', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'test'));
  writeFileSync(join(dir, 'test', 'one.test.ts'), '');
  writeFileSync(join(dir, 'test', 'two.test.ts'), '');
  assert.deepEqual(chosenFiles([], join(dir, 'test'), dir), [join(dir, 'test', 'one.test.ts'), join(dir, 'test', 'two.test.ts')]);
  assert.deepEqual(chosenFiles([join('test', 'two.test.ts')], join(dir, 'test'), dir), [join('test', 'two.test.ts')]);
  assert.throws(() => chosenFiles(['test/three.test.ts'], 'test', dir), /^Error: no such test file: test\/three\.test\.ts/);
});

test("node's arguments load tsx, run the test runner with the concurrency and the spec reporter, then the files", () => {
  assert.deepEqual(nodeTestArguments(['test/a.test.ts', 'test/b.test.ts'], 3), [
    '--import', 'tsx', '--test', '--test-concurrency=3', '--test-reporter=spec', 'test/a.test.ts', 'test/b.test.ts',
  ]);
});
