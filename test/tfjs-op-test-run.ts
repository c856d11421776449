/**
 * One run of TF.js's op tests on one configuration of the wasm backend, in a child process of its
 * own (test/tfjs-op-tests-child.ts; the backend is process-wide), and the comparison of two runs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** 'stock': the package's wasm backend alone; 'tuned': setupWasm() with the project's kernels. */
export interface OpTestConfig {
  kernels: 'stock' | 'tuned';
  threads: number;
}

/** One jasmine spec (or a suite's own failure, e.g. in afterAll) and how it ended. */
export interface SpecOutcome {
  /** Full name, made unique by a `#n` suffix where TF.js repeats one. */
  name: string;
  status: string;
  /** First lines of each failed expectation. */
  failures: string[];
}

/** What a child writes: the kernels it registered, the threads XNNPACK ran on, every spec. */
export interface OpTestRun {
  kernels: string[];
  threads: number;
  specs: SpecOutcome[];
}

export const CHILD_ENV = { config: 'OP_TESTS_CONFIG', bundle: 'OP_TESTS_BUNDLE', out: 'OP_TESTS_OUT' } as const;

const CHILD = fileURLToPath(new URL('./tfjs-op-tests-child.ts', import.meta.url));

/** Runs the op test bundle on `config` in a child process; throws with its output if it fails. */
export function runOpTests(bundle: string, config: OpTestConfig, workDir: string, timeoutMs: number): OpTestRun {
  const out = path.join(workDir, `${config.kernels}-${config.threads}.json`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, [CHILD_ENV.config]: JSON.stringify(config), [CHILD_ENV.bundle]: bundle, [CHILD_ENV.out]: out },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined || result.status !== 0 || !fs.existsSync(out)) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`op tests on ${JSON.stringify(config)} did not finish (${String(result.error ?? `exit ${result.status}`)}):\n${tail}`);
  }
  return JSON.parse(fs.readFileSync(out, 'utf8')) as OpTestRun;
}

/** Specs that passed in `baseline` but did not pass (failed, errored or never ran) in `run`. */
export function lostSpecs(baseline: OpTestRun, run: OpTestRun): SpecOutcome[] {
  const byName = new Map(run.specs.map((spec) => [spec.name, spec]));
  return baseline.specs
    .filter((spec) => spec.status === 'passed' && byName.get(spec.name)?.status !== 'passed')
    .map((spec) => byName.get(spec.name) ?? { name: spec.name, status: 'not run', failures: [] });
}

/** Specs that pass in `run` but not in `baseline` (what the project's kernels add). */
export function gainedSpecs(baseline: OpTestRun, run: OpTestRun): SpecOutcome[] {
  return lostSpecs(run, baseline);
}

export function countPassed(run: OpTestRun): number {
  return run.specs.filter((spec) => spec.status === 'passed').length;
}

/** A readable list of specs for an assertion message. */
export function describeSpecs(specs: readonly SpecOutcome[], limit = 25): string {
  const lines = specs.slice(0, limit).map((spec) => `- ${spec.name} [${spec.status}]${spec.failures.length > 0 ? `: ${spec.failures.join(' / ')}` : ''}`);
  if (specs.length > limit) lines.push(`... and ${specs.length - limit} more`);
  return lines.join('\n');
}
