/**
 * doctor's reading of package.json `engines.node` (cli/version-range.ts), case by case as npm's
 * semver reads the same ranges.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { satisfies, VersionRangeError } from '../cli/version-range';

const cases: Array<[range: string, version: string, expected: boolean]> = [
  ['>=20', '20.0.0', true],
  ['>=20', '19.9.9', false],
  ['>=20', 'v24.1.0', true],
  ['>= 20.6', '20.5.1', false],
  ['>= 20.6', '20.6.0', true],
  ['>20', '20.9.0', false],
  ['>20', '21.0.0', true],
  ['>20.1.2', '20.1.2', false],
  ['>20.1.2', '20.1.3', true],
  ['<22', '21.99.0', true],
  ['<22', '22.0.0', false],
  ['<=22', '22.9.1', true],
  ['<=22.1', '22.2.0', false],
  ['^20.10.0', '20.9.0', false],
  ['^20.10.0', '20.19.5', true],
  ['^20.10.0', '21.0.0', false],
  ['^0.2.3', '0.2.9', true],
  ['^0.2.3', '0.3.0', false],
  ['^0.0.3', '0.0.4', false],
  ['~20.1', '20.1.9', true],
  ['~20.1', '20.2.0', false],
  ['~20', '20.99.0', true],
  ['20.x', '20.3.0', true],
  ['20.x', '21.0.0', false],
  ['20', '20.3.0', true],
  ['*', '0.1.0', true],
  ['', '18.0.0', true],
  ['>=18 <20', '19.1.0', true],
  ['>=18 <20', '20.0.0', false],
  ['18 - 20', '20.5.0', true],
  ['18 - 20', '21.0.0', false],
  ['^18 || ^20 || >=22', '21.0.0', false],
  ['^18 || ^20 || >=22', '20.1.0', true],
  ['^18 || ^20 || >=22', '23.0.0', true],
];

for (const [range, version, expected] of cases) {
  test(`${version} ${expected ? 'satisfies' : 'does not satisfy'} '${range}'`, () => {
    assert.equal(satisfies(version, range), expected);
  });
}

test('a range it cannot read is an error naming it, never a pass', () => {
  assert.throws(() => satisfies('20.0.0', '>=twenty'), (error: unknown) => error instanceof VersionRangeError && /'twenty' is not a version/.test(error.message));
  assert.throws(() => satisfies('20.0.0', 'latest'), VersionRangeError);
});
