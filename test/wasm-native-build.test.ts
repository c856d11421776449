/**
 * Which build of the native kernels runs (lib/wasm/native-build.ts): relaxed SIMD (fused
 * multiply-add) exactly where the runtime runs relaxed SIMD, plain SIMD otherwise, or the one
 * MNIST_SPEEDRUN_WASM_SIMD names; and the build that was loaded is said with the backend.
 * That both builds compute what the cpu backend does is test/parity-wasm.test.ts's and
 * test/wasm-kernels.test.ts's job: CI runs them on Node 20 (plain) and Node 24 (relaxed).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { EXIT_CODES, UsageError } from '../lib/errors';
import {
  chooseNativeBuild,
  NATIVE_BUILDS,
  NativeBuildError,
  RELAXED_MADD_PROBE,
  RELAXED_SIMD_FLAG,
  runtimeHasRelaxedSimd,
  SIMD_ENV_VAR,
  simdSetting,
} from '../lib/wasm/native-build';

const root = path.join(import.meta.dirname, '..');
const nativeDir = path.join(root, 'native');
const nodeMajor = Number(process.versions.node.split('.')[0]);
const NO_RELAXED_FLAG = RELAXED_SIMD_FLAG.replace(/^--/, '--no-');

interface Capability {
  probe: boolean;
  compiles: Record<string, boolean>;
}

/**
 * Under this Node with V8 `flags`: whether the probe module validates, and which committed modules
 * compile. Null when this Node does not know one of the flags.
 */
function capabilityUnder(flags: string[]): Capability | null {
  const script = `
    const fs = require('node:fs');
    const [probeHex, dir, ...files] = process.argv.slice(1);
    const compiles = {};
    for (const file of files) {
      try { new WebAssembly.Module(fs.readFileSync(dir + '/' + file)); compiles[file] = true; } catch { compiles[file] = false; }
    }
    console.log(JSON.stringify({ probe: WebAssembly.validate(Buffer.from(probeHex, 'hex')), compiles }));`;
  const files = Object.values(NATIVE_BUILDS).flatMap((b) => [b.plain, b.shared]);
  const child = spawnSync(process.execPath, [...flags, '-e', script, Buffer.from(RELAXED_MADD_PROBE).toString('hex'), nativeDir, ...files], {
    encoding: 'utf8',
  });
  if (child.status !== 0 && /bad option|unknown|unrecognized/i.test(child.stderr)) return null;
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as Capability;
}

const everyModule = (compiles: boolean, relaxed: boolean): Record<string, boolean> => ({
  [NATIVE_BUILDS.simd.plain]: true,
  [NATIVE_BUILDS.simd.shared]: true,
  [NATIVE_BUILDS.relaxed.plain]: compiles || !relaxed,
  [NATIVE_BUILDS.relaxed.shared]: compiles || !relaxed,
});

test(`with ${RELAXED_SIMD_FLAG} the probe validates and every build compiles`, (t) => {
  const found = capabilityUnder([RELAXED_SIMD_FLAG]);
  if (found === null) return t.skip(`Node ${process.version} does not know ${RELAXED_SIMD_FLAG}`);
  assert.deepEqual(found, { probe: true, compiles: everyModule(true, true) });
});

test(`with ${NO_RELAXED_FLAG} the probe fails, and so do the relaxed builds (they use relaxed SIMD), not the plain ones`, (t) => {
  const found = capabilityUnder([NO_RELAXED_FLAG]);
  if (found === null) return t.skip(`Node ${process.version} does not know ${NO_RELAXED_FLAG}`);
  assert.deepEqual(found, { probe: false, compiles: everyModule(false, true) });
});

test('without flags, relaxed SIMD runs from Node 22 on (Node 24 included), not on Node 20, and the probe says so', () => {
  const found = capabilityUnder([])!;
  const expected = nodeMajor > 20;
  assert.deepEqual(found, { probe: expected, compiles: everyModule(expected, true) });
  assert.equal(runtimeHasRelaxedSimd(), expected);
});

test('the build for each setting: relaxed where the runtime has it, plain SIMD when asked or where it has not', () => {
  assert.equal(chooseNativeBuild('auto', true), 'relaxed');
  assert.equal(chooseNativeBuild('auto', false), 'simd');
  assert.equal(chooseNativeBuild('simd', true), 'simd');
  assert.equal(chooseNativeBuild('simd', false), 'simd');
  assert.equal(chooseNativeBuild('relaxed', true), 'relaxed');
  assert.throws(() => chooseNativeBuild('relaxed', false, 'v20.20.2'), (error: unknown) => {
    assert.ok(error instanceof NativeBuildError);
    assert.equal(error.exitCode, EXIT_CODES.backend);
    assert.ok(error.message.includes(`${SIMD_ENV_VAR}=relaxed`), error.message);
    assert.ok(error.message.includes('v20.20.2') && error.message.includes(RELAXED_SIMD_FLAG) && error.message.includes('Node 24'), error.message);
    assert.ok(!error.message.includes('\n'));
    return true;
  });
});

test(`${SIMD_ENV_VAR}: unset or empty is auto; auto, simd and relaxed are read (spaces trimmed); anything else is a usage error`, () => {
  assert.equal(simdSetting({}), 'auto');
  assert.equal(simdSetting({ [SIMD_ENV_VAR]: '' }), 'auto');
  assert.equal(simdSetting({ [SIMD_ENV_VAR]: 'auto' }), 'auto');
  assert.equal(simdSetting({ [SIMD_ENV_VAR]: ' simd' }), 'simd');
  assert.equal(simdSetting({ [SIMD_ENV_VAR]: 'relaxed ' }), 'relaxed');
  for (const value of ['fused', 'plain', 'RELAXED']) {
    assert.throws(() => simdSetting({ [SIMD_ENV_VAR]: value }), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.ok(error.message.includes(`${SIMD_ENV_VAR}='${value}'`), error.message);
      assert.match(error.message, /use auto .*, simd or relaxed, or unset it/);
      return true;
    });
  }
});

/** `mnist-speedrun backends --backend wasm` under this Node with `flags` and the SIMD variable. */
function backendsCommand(flags: string[], simd: string | undefined): { status: number | null; stderr: string } {
  const env = { ...process.env };
  delete env[SIMD_ENV_VAR];
  if (simd !== undefined) env[SIMD_ENV_VAR] = simd;
  const child = spawnSync(process.execPath, [...flags, '--import', 'tsx', 'cli/main.ts', 'backends', '--backend', 'wasm'], {
    cwd: root, env, encoding: 'utf8', timeout: 120_000,
  });
  assert.equal(child.error, undefined, String(child.error));
  return { status: child.status, stderr: child.stderr };
}

const WASM_LINE = /^wasm: WebAssembly \(XNNPACK \+ native kernels: (.+)\) on .+ \(requested\)$/m;

test('the backend line names the build that was loaded: plain SIMD when asked for', () => {
  const { status, stderr } = backendsCommand([], 'simd');
  assert.equal(status, 0, stderr);
  assert.equal(WASM_LINE.exec(stderr)?.[1], NATIVE_BUILDS.simd.label, stderr);
});

test('the backend line names the build that was loaded: relaxed SIMD where the runtime has it, else exit 4 naming the fix', () => {
  const { status, stderr } = backendsCommand([], 'relaxed');
  if (nodeMajor > 20) {
    assert.equal(status, 0, stderr);
    assert.equal(WASM_LINE.exec(stderr)?.[1], NATIVE_BUILDS.relaxed.label, stderr);
  } else {
    assert.equal(status, EXIT_CODES.backend, stderr);
    assert.match(stderr.trim(), new RegExp(`^error: ${SIMD_ENV_VAR}=relaxed, but Node .*${RELAXED_SIMD_FLAG}`));
  }
});

test(`by default the backend line says relaxed SIMD on a runtime that has it (${RELAXED_SIMD_FLAG} on Node 20)`, () => {
  const { status, stderr } = backendsCommand(nodeMajor > 20 ? [] : [RELAXED_SIMD_FLAG], undefined);
  assert.equal(status, 0, stderr);
  assert.equal(WASM_LINE.exec(stderr)?.[1], NATIVE_BUILDS.relaxed.label, stderr);
});

test(`${SIMD_ENV_VAR}=fused ends 'backends' with exit 2, naming the variable`, () => {
  const { status, stderr } = backendsCommand([], 'fused');
  assert.equal(status, EXIT_CODES.usage, stderr);
  assert.ok(stderr.includes(`${SIMD_ENV_VAR}='fused'`), stderr);
});
