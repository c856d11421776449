/**
 * TF.js's own op tests, for every kernel the project registers for the wasm backend: the project
 * registers its kernels for the whole process, so any TF.js code (a notebook cell, a user's model)
 * runs on them. Each spec that passes on the stock wasm backend must pass with the project's
 * kernels, on one thread and on several (setupWasm's threads), each configuration in a child
 * process of its own. Specs that fail on stock too (NCHW, kernels stock lacks) are not held
 * against the project; those its kernels make pass are reported.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { MAX_WASM_THREADS } from '../lib/wasm/threads';
import { buildOpTestBundle, tfjsCoreDist } from './tfjs-op-test-bundle';
import { allOpTestFiles, kernelsWithoutOpTests, OP_TEST_FILES, opTestFilesFor, OWN_KERNELS } from './tfjs-op-test-files';
import { countPassed, describeSpecs, gainedSpecs, lostSpecs, runOpTests } from './tfjs-op-test-run';
import type { OpTestConfig, OpTestRun } from './tfjs-op-test-run';

/** TFJS_OP_TESTS=all runs every op test file of tfjs-core instead (about 3,500 specs, minutes). */
const ALL_OP_TESTS = process.env['TFJS_OP_TESTS'] === 'all';
const CHILD_TIMEOUT_MS = ALL_OP_TESTS ? 1_200_000 : 300_000;
/** "All threads": every core, and at least 2 so that the threaded path runs on any machine. */
const ALL_THREADS = Math.min(MAX_WASM_THREADS, Math.max(2, os.availableParallelism()));

describe("TF.js's op tests for the kernels the project registers", () => {
  let workDir = '';
  let bundle = '';
  let stock: OpTestRun;

  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-op-tests-'));
    bundle = path.join(workDir, 'op-tests.cjs');
    await buildOpTestBundle(ALL_OP_TESTS ? allOpTestFiles(tfjsCoreDist()) : opTestFilesFor(Object.keys(OP_TEST_FILES)), bundle);
    stock = runOpTests(bundle, { kernels: 'stock', threads: 1 }, workDir, CHILD_TIMEOUT_MS);
  });
  after(() => {
    if (workDir !== '') fs.rmSync(workDir, { recursive: true, force: true });
  });

  test('the listed test files exist in the installed tfjs-core', () => {
    const missing = opTestFilesFor(Object.keys(OP_TEST_FILES)).filter((file) => !fs.existsSync(path.join(tfjsCoreDist(), file)));
    assert.deepEqual(missing, []);
  });

  test("the project's own kernels have their own test files", () => {
    const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
    const missing = Object.values(OWN_KERNELS).filter((file) => !fs.existsSync(path.join(root, file)));
    assert.deepEqual(missing, []);
  });

  test('the stock wasm backend runs them (the baseline)', (t) => {
    const failed = stock.specs.filter((spec) => spec.status !== 'passed');
    t.diagnostic(`stock wasm: ${stock.specs.length} specs, ${countPassed(stock)} passed, ${failed.length} did not`);
    // hundreds of specs in these files: far fewer means the bundle lost test files
    assert.ok(stock.specs.length >= 500, `only ${stock.specs.length} specs ran`);
    assert.ok(countPassed(stock) >= 0.8 * stock.specs.length, `only ${countPassed(stock)} of ${stock.specs.length} passed on stock:\n${describeSpecs(failed)}`);
  });

  const configs: OpTestConfig[] = [{ kernels: 'tuned', threads: 1 }, { kernels: 'tuned', threads: ALL_THREADS }];
  for (const config of configs) {
    test(`the project's kernels on ${config.threads} thread(s): every spec that passes on stock passes`, (t) => {
      const ours = runOpTests(bundle, config, workDir, CHILD_TIMEOUT_MS);
      assert.equal(ours.threads, config.threads, 'engine threads');
      assert.deepEqual(kernelsWithoutOpTests(ours.kernels), [], 'kernels registered without op tests listed in test/tfjs-op-test-files.ts');
      const gained = gainedSpecs(stock, ours);
      t.diagnostic(`${ours.specs.length} specs, ${countPassed(ours)} passed; ${gained.length} pass here and not on stock`);
      const lost = lostSpecs(stock, ours);
      assert.equal(lost.length, 0, `${lost.length} spec(s) pass on the stock wasm backend and not with the project's kernels:\n${describeSpecs(lost)}`);
    });
  }
});
