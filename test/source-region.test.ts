import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../lib/errors';
import { projectRoot } from '../lib/project-root';
import { findRegions, REGIONS, showCode, sourceRegion } from '../lib/source-region';
import { tempDirFactory } from './temp-dirs';

const root = projectRoot();
const tempDir = tempDirFactory('source-region-');

/** How often `// #region name` and `// #endregion name` appear in lib/*.ts, counted here without the code under test. */
function markerCounts(name: string): { opens: number; closes: number } {
  const texts = readdirSync(join(root, 'lib')).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(root, 'lib', f), 'utf8'));
  const count = (pattern: RegExp): number => texts.reduce((n, text) => n + (text.match(pattern)?.length ?? 0), 0);
  return { opens: count(new RegExp(`// #region ${name}\\s*$`, 'gm')), closes: count(new RegExp(`// #endregion ${name}\\s*$`, 'gm')) };
}

test('every listed region is marked exactly once, opened and closed, and holds code; every marked region is listed', () => {
  const found = findRegions(root);
  for (const name of Object.keys(REGIONS)) {
    assert.deepEqual(markerCounts(name), { opens: 1, closes: 1 }, name);
    const region = found.get(name);
    assert.ok(region !== undefined, name);
    assert.ok(region.code.trim().split('\n').length >= 3, `${name} holds code`);
    assert.ok(region.endLine >= region.startLine);
  }
  assert.deepEqual([...found.keys()].sort(), Object.keys(REGIONS).sort());
});

test("a region is the library's own lines, with the file and line numbers they come from", () => {
  const region = sourceRegion('net-final', root);
  assert.equal(region.file, 'lib/nets.ts');
  const lines = readFileSync(join(root, 'lib/nets.ts'), 'utf8').split('\n');
  assert.match(lines[region.startLine - 2]!, /\/\/ #region net-final$/);
  assert.match(lines[region.endLine]!, /\/\/ #endregion net-final$/);
  assert.equal(region.code, lines.slice(region.startLine - 1, region.endLine).join('\n'));
  assert.match(region.code, /^const final: NetSpec = \{/);
  assert.match(region.code, /\{ out: 24, kernel: 5, pool: 'before-relu', relu: true \}/);
  // the forward every spec runs, indented in lib/model.ts: its common indentation removed
  const forward = sourceRegion('net-forward', root);
  assert.equal(forward.file, 'lib/model.ts');
  assert.match(forward.code, /^\/\*\*\n \* The forward pass of any spec/);
  assert.match(forward.code, /'before-relu'\); \/\/ tf\.relu\(maxPool2\(conv\(h\)\)\)/);
  assert.match(sourceRegion('early-stop', root).code, /recipe\.stopAtAccuracy/);
  assert.match(sourceRegion('device-batches', root).code, /tf\.slice\(data\.images/);
  // from notebooks/, where the kernel runs, the project root is found above it
  assert.deepEqual(sourceRegion('one-cycle', projectRoot(join(root, 'notebooks'))), sourceRegion('one-cycle', root));
});

test('an unknown region is refused with the closest name and the list of regions', () => {
  assert.throws(() => sourceRegion('net-fnal', root), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /no code region named 'net-fnal' in .*lib \(did you mean net-final\?\): the regions are adadelta-update, /);
    return true;
  });
  assert.throws(() => showCode('net-final', 'nope'), /no code region named 'nope'/);
});

test('markers without a partner, nested or marked twice are refused naming the file and line', () => {
  const write = (text: string): string => {
    const dir = tempDir();
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'a.ts'), text);
    return dir;
  };
  assert.throws(() => findRegions(write('// #region x\nconst a = 1;\n')), /lib\/a\.ts:1: region x has no #endregion x/);
  assert.throws(() => findRegions(write('const a = 1;\n// #endregion x\n')), /lib\/a\.ts:2: #endregion x without its #region x/);
  assert.throws(() => findRegions(write('// #region x\n// #region y\n// #endregion y\n// #endregion x\n')), /lib\/a\.ts:2: region y starts inside region x/);
  assert.throws(() => findRegions(write('// #region x\na\n// #endregion x\n// #region x\nb\n// #endregion x\n')), /region x is already marked/);
  const good = findRegions(write('  // #region x\n    indented();\n  // #endregion x\n'));
  assert.deepEqual(good.get('x'), { file: 'lib/a.ts', startLine: 2, endLine: 2, code: 'indented();' });
  assert.throws(() => sourceRegion('x', tempDir()), /the library's TypeScript source was not found in .*lib: showCode reads lib\/\*\.ts/);
});

test('outside a notebook, showCode prints each caption and its code', (t) => {
  const printed: string[] = [];
  t.mock.method(console, 'log', (text: string) => printed.push(text));
  showCode('step-lr');
  const region = sourceRegion('step-lr', root);
  assert.equal(printed.length, 1);
  assert.equal(printed[0], `lib/schedule.ts, lines ${region.startLine}-${region.endLine}:\n${region.code}\n`);
  assert.match(printed[0]!, /export function stepLr/);
});

/** The lines between `// #region name` and `// #endregion name` in `file`, their common indentation removed: read here, not by the code under test. */
function regionLinesOf(file: string, name: string): string {
  const lines = readFileSync(join(root, file), 'utf8').split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === `// #region ${name}`);
  const end = lines.findIndex((l) => l.trim() === `// #endregion ${name}`);
  assert.ok(start >= 0 && end > start, `${file} marks region ${name}`);
  const body = lines.slice(start + 1, end);
  const cut = Math.min(...body.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return body.map((l) => l.slice(cut)).join('\n');
}

test("every code listing saved in a notebook's outputs is the library's code as it stands (line numbers may move)", () => {
  let listings = 0;
  for (const name of readdirSync(join(root, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort()) {
    const notebook = JSON.parse(readFileSync(join(root, 'notebooks', name), 'utf8')) as {
      cells: Array<{ cell_type: string; source: string[] | string; outputs?: Array<{ data?: Record<string, string[] | string> }> }>;
    };
    for (const cell of notebook.cells) {
      const source = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
      const call = /showCode\(([^)]*)\)/.exec(source);
      if (cell.cell_type !== 'code' || call === null || (cell.outputs ?? []).length === 0) continue;
      const regions = [...call[1]!.matchAll(/'([\w-]+)'/g)].map((m) => m[1]!);
      const shown = (cell.outputs ?? []).map((o) => o.data?.['text/markdown']).filter((m): m is string[] | string => m !== undefined)
        .map((m) => (Array.isArray(m) ? m.join('') : m));
      assert.equal(shown.length, regions.length, `${name}: showCode(${call[1]}) saved ${shown.length} listing(s)`);
      shown.forEach((markdown, i) => {
        const listing = /^`(lib\/[\w-]+\.ts), lines \d+-\d+`\n\n```ts\n([\s\S]*)\n```$/.exec(markdown);
        assert.ok(listing !== null, `${name}: listing ${i + 1} is a caption and a ts block`);
        assert.equal(listing[2], regionLinesOf(listing[1]!, regions[i]!), `${name}: the saved listing of ${regions[i]} is the code in ${listing[1]} now; rerun the notebook`);
        listings++;
      });
    }
  }
  assert.ok(listings >= 9, `found ${listings} saved listings`);
});
