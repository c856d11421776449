/**
 * The notebooks import the library compiled in dist/ (`../dist/notebook`), because tslab compiles
 * TypeScript only under the kernel's working folder, notebooks/. These checks: no symbolic link in
 * the tree (Windows checks one out as a text file), every notebook's import lines type-check as
 * tslab's own TypeScript (5.0) reads them, against dist/'s declarations, and dist/ loads with
 * require() from notebooks/ as tslab loads it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import type * as TypeScript from 'typescript';
import { projectRoot } from '../lib/project-root';
import { RECIPES } from '../lib/recipes';
import { ensureDist } from '../tools/build-dist';

const root = projectRoot();

function libFiles(dir = join(root, 'lib')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return libFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The import lines of each notebook's code cells, by notebook file name. */
function notebookImports(): Map<string, string[]> {
  const dir = join(root, 'notebooks');
  const imports = new Map<string, string[]>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ipynb')).sort()) {
    const notebook = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { cells: Array<{ cell_type: string; source: string[] | string }> };
    const lines = notebook.cells
      .filter((cell) => cell.cell_type === 'code')
      .flatMap((cell) => (Array.isArray(cell.source) ? cell.source.join('') : cell.source).split('\n'))
      .filter((line) => /^import\b/.test(line));
    imports.set(name, lines);
  }
  return imports;
}

test('no lib file uses import.meta (dist/ is CommonJS, where it does not exist)', () => {
  const offenders = libFiles().filter((path) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .some((line) => !line.trim().startsWith('//') && !line.trim().startsWith('*') && line.includes('import.meta')),
  );
  assert.deepEqual(offenders, [], `resolve paths from projectRoot() instead of import.meta in: ${offenders.join(', ')}`);
});

test('the tree holds no symbolic link (Windows checks links out as text files)', (t) => {
  const listing = spawnSync('git', ['ls-files', '-s'], { cwd: root, encoding: 'utf8' });
  if (listing.status !== 0) return t.skip('not a git checkout');
  const links = listing.stdout.split('\n').filter((line) => line.startsWith('120000 '));
  assert.deepEqual(links, [], 'replace each link with something a checkout without links can use');
});

test("every notebook imports the library from ../dist/ and its imports type-check with tslab's TypeScript", () => {
  ensureDist(root);
  const imports = notebookImports();
  assert.equal(imports.size, RECIPES.length, 'one notebook per step');
  for (const [name, lines] of imports) {
    const local = lines.filter((line) => /from '\./.test(line));
    assert.ok(local.length > 0, `${name} imports the library`);
    for (const line of local) assert.match(line, /from '\.\.\/dist\/[\w-]+'/, `${name}: ${line}`);
  }

  // tslab's compiler, with the options tslab gives it, on one in-memory file per notebook in
  // notebooks/ (tslab's own files are in-memory too, under the kernel's working folder)
  const ts = createRequire(join(root, 'package.json'))('@tslab/typescript-for-tslab') as typeof TypeScript;
  const options: TypeScript.CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2020,
    lib: ['lib.es2020.d.ts'],
    resolveJsonModule: true,
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
    noEmit: true,
  };
  const notebooksDir = join(root, 'notebooks').split('\\').join('/');
  const sources = new Map([...imports].map(([name, lines]) => [`${notebooksDir}/${name}.ts`, `export {};\n${lines.join('\n')}\n`]));
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreateNewSourceFile) => {
    const text = sources.get(fileName);
    if (text === undefined) return getSourceFile(fileName, languageVersion, onError, shouldCreateNewSourceFile);
    return ts.createSourceFile(fileName, text, languageVersion);
  };
  host.fileExists = (fileName) => sources.has(fileName) || ts.sys.fileExists(fileName);
  host.readFile = (fileName) => sources.get(fileName) ?? ts.sys.readFile(fileName);
  const program = ts.createProgram([...sources.keys()], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) =>
    `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
  );
  assert.deepEqual(diagnostics, [], `tslab ${ts.version} rejects the notebooks' imports`);
  // resolved to dist/'s declarations, not to sources tslab would have to compile
  const libraryFiles = program.getSourceFiles().map((f) => f.fileName).filter((f) => f.includes('/dist/') && !f.includes('node_modules'));
  assert.ok(libraryFiles.length > 0 && libraryFiles.every((f) => f.endsWith('.d.ts')), libraryFiles.join(', '));
});

test('dist/ loads with require() from notebooks/, as the tslab kernel loads it', () => {
  ensureDist(root);
  const load = spawnSync(
    process.execPath,
    ['-e', "const n = require('../dist/notebook'); const p = require('../dist/plot-notebook'); console.log(typeof n.startSession, typeof p.showFigure)"],
    { cwd: join(root, 'notebooks'), encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(load.status, 0, load.stderr);
  assert.equal(load.stdout.trim().split('\n').pop(), 'function function');
});
