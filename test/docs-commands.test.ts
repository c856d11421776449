/**
 * The commands the README and docs/workshop.md tell people to type exist: every `npm run X` is a
 * script in package.json, and every `mnist-speedrun COMMAND --flag` is a command and a flag the
 * CLI's own usage text lists.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../lib/project-root';
import { cli } from './run-cli';

const root = projectRoot();
const docs = ['README.md', 'docs/workshop.md'].map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }));
const scripts = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);

test('every npm run script the docs name exists in package.json', () => {
  for (const { file, text } of docs) {
    const named = [...text.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    for (const name of named) assert.ok(scripts.includes(name), `${file} names 'npm run ${name}', which package.json does not define`);
  }
});

test('every mnist-speedrun command and flag the docs name is in the CLI usage', async () => {
  const usage = (await cli(['--help'])).stdout;
  const commands = [...usage.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!);
  const flags = new Set([...usage.matchAll(/(--[a-z][\w-]*)/g)].map((m) => m[1]!));
  assert.ok(commands.length > 3 && flags.size > 5, `usage text not understood:\n${usage}`);
  for (const { file, text } of docs) {
    for (const m of text.matchAll(/npx mnist-speedrun ([a-z]+)((?: [^\s`|]+)*)/g)) {
      assert.ok(commands.includes(m[1]!), `${file} names 'mnist-speedrun ${m[1]}', which the CLI usage does not list`);
      for (const flag of (m[2] ?? '').matchAll(/(--[a-z][\w-]*)/g)) {
        assert.ok(flags.has(flag[1]!), `${file} names '${flag[1]}' (in '${m[0]}'), which the CLI usage does not list`);
      }
    }
  }
});
