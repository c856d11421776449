/**
 * The headless notebook runner on scratch notebooks: it must pass a good notebook and fail on a
 * type error or a thrown error, even when a good cell follows the bad one (tslab skips requests for
 * 200 ms after an error, so a naive runner would see the next cell "pass" with no output).
 * Needs Debian's nbclient (CI installs it); locally, without it, the tests skip and say why.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  checkNotebookTools,
  defaultOptions,
  installKernel,
  NotebookToolsMissingError,
  runNotebook,
} from '../tools/run-notebooks';
import { ensureDist } from '../tools/build-dist';
import { isNotebookKernel } from '../lib/table-notebook';

const options = defaultOptions();

/** Why these tests cannot run here, or null; in CI a missing tool is a failure, not a skip. */
function missingTools(): string | null {
  try {
    checkNotebookTools(options.python);
    return null;
  } catch (error) {
    if (!(error instanceof NotebookToolsMissingError) || process.env.CI) throw error;
    console.log(`skipping notebook runner tests: ${error.message}`);
    return error.message;
  }
}
const skip = missingTools() ?? false;

function writeNotebook(dir: string, name: string, cells: string[]): string {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: cells.map((source, index) => ({
      id: `cell-${index}`,
      cell_type: 'code',
      metadata: {},
      execution_count: null,
      outputs: [],
      source,
    })),
  };
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(notebook, null, 1));
  return path;
}

function runCli(args: string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve('tools/run-notebooks.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => (stdout += text));
    child.on('close', (status) => done({ status, stdout }));
  });
}

const passing = [
  'const doubled: number[] = [1, 2, 3].map((n) => 2 * n)\ndoubled.length',
  'await new Promise((done) => setTimeout(done, 10))\nconsole.log(`quick=${process.env.MNIST_SPEEDRUN_QUICK} mode=${process.env.MNIST_SPEEDRUN_MODE}`)',
];

test('the runner passes a good notebook and fails on errors, whatever follows them', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'notebooks-test-'));
  const good = writeNotebook(dir, 'good.ipynb', passing);
  const typeError = writeNotebook(dir, 'type-error.ipynb', ["const label: number = 'ninety-nine'", '1 + 1']);
  const throws = writeNotebook(dir, 'throws.ipynb', ["throw new RangeError('accuracy out of range')", '1 + 1']);
  const written = writeNotebook(dir, 'written.ipynb', passing);
  const committed = readFileSync(good, 'utf8');
  const jupyterPath = installKernel(options.python, join(dir, 'jupyter'));

  // one kernel each, all at once: kernel start-up is most of the cost
  const [cli, checked, thrown, write] = await Promise.all([
    runCli([typeError]),
    runNotebook(good, options, jupyterPath),
    runNotebook(throws, options, jupyterPath),
    runNotebook(written, { ...options, write: true, mode: 'quick' }, jupyterPath),
  ]);

  assert.equal(cli.status, 1, cli.stdout);
  assert.match(cli.stdout, /^FAIL type-error\.ipynb /m);
  assert.match(cli.stdout, /cell 1: .*\n.*\n.*not assignable to type 'number'/);

  assert.equal(checked.passed, true, checked.report);
  assert.equal(readFileSync(good, 'utf8'), committed, 'check mode must not write into the notebook');

  assert.equal(thrown.passed, false);
  assert.match(thrown.report, /cell 1/);
  assert.match(thrown.report, /RangeError: accuracy out of range/);

  assert.equal(write.passed, true, write.report);
  const saved = readFileSync(written, 'utf8');
  assert.match(saved, /quick=1 mode=quick/, '--write saves outputs, and the quick mode reaches the kernel');
});

test('isNotebookKernel is true inside the tslab kernel and false in plain Node', { skip, timeout: 180_000 }, async () => {
  assert.equal(isNotebookKernel(), false);
  const root = resolve(import.meta.dirname, '..');
  ensureDist(root);
  const dir = mkdtempSync(join(tmpdir(), 'notebooks-test-'));
  const notebook = writeNotebook(dir, 'kernel.ipynb', [
    `import { isNotebookKernel } from ${JSON.stringify(join(root, 'dist', 'table-notebook'))};\nconsole.log(\`inside=\${isNotebookKernel()}\`)`,
  ]);
  const result = await runNotebook(notebook, { ...options, write: true }, installKernel(options.python, join(dir, 'jupyter')));
  assert.equal(result.passed, true, result.report);
  assert.match(readFileSync(notebook, 'utf8'), /inside=true/);
});
