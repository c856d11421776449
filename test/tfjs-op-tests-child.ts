/**
 * Child process of test/tfjs-op-tests.test.ts: sets up the wasm backend as configured (the stock
 * backend, or setupWasm() with the project's kernels on some threads), loads the bundle of TF.js's
 * op tests for it, runs them with jasmine in file order and writes every spec's outcome as JSON.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setupWasm } from '../lib/wasm/setup';
import { CHILD_ENV } from './tfjs-op-test-run';
import type { OpTestConfig, OpTestRun, SpecOutcome } from './tfjs-op-test-run';

/** The parts of jasmine-core used here (it ships no types). */
interface JasmineResult {
  fullName: string;
  status: string;
  failedExpectations: Array<{ message: string }>;
}
interface JasmineReporter {
  specDone?(result: JasmineResult): void;
  suiteDone?(result: JasmineResult): void;
  jasmineDone?(): void;
}
interface JasmineEnv {
  configure(options: { random: boolean; stopOnSpecFailure?: boolean }): void;
  addReporter(reporter: JasmineReporter): void;
  /** A promise from jasmine 4 on, nothing before. */
  execute(): Promise<unknown> | undefined;
}
interface Jasmine {
  DEFAULT_TIMEOUT_INTERVAL: number;
  getEnv(): JasmineEnv;
}
interface JasmineCore {
  /** Builds a jasmine and puts its interface (describe, it, expect, ...) on the global object. */
  boot(): Jasmine;
}
interface OpTestBundle {
  loadSpecs(testEnv: { name: string; backendName: string; isDataSync: boolean }): void;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set: this file is run by test/tfjs-op-tests.test.ts`);
  return value;
}

const config = JSON.parse(requiredEnv(CHILD_ENV.config)) as OpTestConfig;
const bundlePath = requiredEnv(CHILD_ENV.bundle);
const outPath = requiredEnv(CHILD_ENV.out);

let kernels: string[] = [];
let threads = 1;
if (config.kernels === 'tuned') {
  ({ kernels, threads } = await setupWasm({ threads: config.threads }));
} else if (!(await tf.setBackend('wasm'))) {
  throw new Error('the stock wasm backend failed to initialise');
}

const require = createRequire(import.meta.url);
const jasmineCore = require('jasmine-core') as JasmineCore;
const jasmine = jasmineCore.boot();
jasmine.DEFAULT_TIMEOUT_INTERVAL = 20_000;
const env = jasmine.getEnv();
env.configure({ random: false, stopOnSpecFailure: false });

const specs: SpecOutcome[] = [];
const seen = new Map<string, number>();
const record = (result: JasmineResult, name: string): void => {
  const count = seen.get(name) ?? 0;
  seen.set(name, count + 1);
  specs.push({
    name: count === 0 ? name : `${name} #${count + 1}`,
    status: result.status,
    failures: result.failedExpectations.map((failure) => failure.message.split('\n').slice(0, 2).join(' ').slice(0, 300)),
  });
};
const finished = new Promise<void>((resolve) => {
  env.addReporter({
    specDone: (result) => record(result, result.fullName),
    // a suite's own failures (beforeAll, afterAll) count as a spec of the suite
    suiteDone: (result) => {
      if (result.failedExpectations.length > 0) record({ ...result, status: 'failed' }, `${result.fullName} (suite)`);
    },
    jasmineDone: () => resolve(),
  });
});

(require(bundlePath) as OpTestBundle).loadSpecs({ name: 'wasm', backendName: 'wasm', isDataSync: true });
await Promise.all([env.execute(), finished]);

const run: OpTestRun = { kernels, threads, specs };
fs.writeFileSync(outPath, JSON.stringify(run));
// XNNPACK's workers of the last backend are unref'ed; exiting here keeps a stray handle of a
// test file from holding the run open
process.exit(0);
