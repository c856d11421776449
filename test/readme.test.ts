/**
 * The README's numbers come from committed artifacts: its ladder table is exactly the one
 * tools/readme-tables.ts generates from results/reference/, and every test file it names exists.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SETTINGS } from '../lib/environment';
import { projectRoot } from '../lib/project-root';
import { ladderMarkdown, referenceLadder } from '../tools/readme-tables';

const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');

test('the README ladder is the one generated from the committed reference results', async () => {
  const rows = await referenceLadder();
  assert.ok(rows.length > 0, 'results/reference/ holds a ladder');
  const table = ladderMarkdown(rows);
  assert.ok(readme.includes(table), `README.md lacks the generated ladder; regenerate it with npx tsx tools/readme-tables.ts:\n${table}`);
});

test('every test file the README names exists', () => {
  const named = [...readme.matchAll(/test\/[\w.-]+\.test\.ts/g)].map((m) => m[0]);
  assert.ok(named.length > 0);
  for (const file of named) assert.ok(existsSync(join(projectRoot(), file)), `${file} is named in README.md but does not exist`);
});

test('the environment-variable table lists every variable the library checks, each with its allowed values', () => {
  const section = readme.slice(readme.indexOf('## Environment variables'), readme.indexOf('\n## ', readme.indexOf('## Environment variables') + 1));
  const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \|/gm)].map((m) => ({ name: m[1]!, allowed: m[2]!.trim() }));
  const firstTable = rows.slice(0, SETTINGS.length);
  assert.deepEqual(firstTable.map((row) => row.name), SETTINGS.map((setting) => setting.name));
  for (const row of firstTable) assert.ok(row.allowed.length > 0, `${row.name} has no allowed values`);
});
