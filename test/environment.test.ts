/**
 * The rules of every environment variable (lib/environment.ts), one by one: what each accepts,
 * what it refuses, and the one message shape of a refusal. The CLI, the bench and the notebooks
 * meeting the same values are tested in test/environment-cli.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  BACKEND,
  checkEnvironment,
  DEBUG,
  debugRequested,
  FONT,
  LEDGER,
  MIRRORS,
  MNIST_DIR,
  QUICK,
  readSetting,
  REFERENCE,
  RETIME,
  SETTINGS,
  WASM_THREADS,
  XDG_CACHE_HOME,
  type Setting,
} from '../lib/environment';
import { SpeedrunError, UsageError } from '../lib/errors';
import { MnistNotFoundError } from '../lib/mnist-files';
import { isQuickMode } from '../lib/run-mode';
import { isReferenceRecording } from '../lib/ledger';

const MNIST = process.env.MNIST_DIR ?? '../shared/data/mnist';
const scratch = mkdtempSync(join(tmpdir(), 'environment-test-'));
const aFile = join(scratch, 'a-file');
writeFileSync(aFile, 'not a folder, not a font');

/** The error `setting` raises for `value`, asserting it is one line of the shared shape. */
function refusal(setting: Setting<unknown>, value: string): SpeedrunError {
  let caught: unknown;
  try {
    readSetting(setting, { [setting.name]: value });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof SpeedrunError, `${setting.name}='${value}' was accepted`);
  const prefix = `${setting.name}='${value.replace(/\n/g, '\\u000a')}' is not allowed: `;
  assert.ok(caught.message.startsWith(prefix), caught.message);
  assert.ok(caught.message.endsWith(`use ${setting.allowed}, or unset it`), caught.message);
  assert.ok(!caught.message.includes('\n'), 'one line');
  return caught;
}

describe('yes/no settings take the same spellings', () => {
  for (const setting of [QUICK, REFERENCE, RETIME, DEBUG]) {
    test(setting.name, () => {
      for (const value of ['1', 'true', 'TRUE', 'Yes', 'on', ' on ']) assert.equal(readSetting(setting, { [setting.name]: value }), true, value);
      for (const value of ['0', 'false', 'False', 'no', 'OFF']) assert.equal(readSetting(setting, { [setting.name]: value }), false, value);
      for (const value of ['', ' ']) assert.equal(readSetting(setting, { [setting.name]: value }), undefined, `'${value}' is unset`);
      for (const value of ['abc', '2', 'y', 'truee', '-1', 'enabled']) {
        const error = refusal(setting, value);
        assert.ok(error instanceof UsageError);
        assert.match(error.message, /use 1, true, yes or on \(.*\), or 0, false, no or off, or unset it$/);
      }
    });
  }

  test('isQuickMode and isReferenceRecording read them by that rule', () => {
    assert.equal(isQuickMode({ MNIST_SPEEDRUN_QUICK: 'yes' }), true);
    assert.equal(isQuickMode({ MNIST_SPEEDRUN_QUICK: 'off' }), false);
    assert.throws(() => isQuickMode({ MNIST_SPEEDRUN_QUICK: 'abc' }), UsageError);
    assert.equal(isReferenceRecording({ MNIST_SPEEDRUN_REFERENCE: 'true' }), true);
    assert.throws(() => isReferenceRecording({ MNIST_SPEEDRUN_REFERENCE: 'please' }), UsageError);
  });

  test('debugRequested never throws, even for a value the rule refuses', () => {
    assert.equal(debugRequested({ MNIST_SPEEDRUN_DEBUG: 'on' }), true);
    assert.equal(debugRequested({ MNIST_SPEEDRUN_DEBUG: '0' }), false);
    assert.equal(debugRequested({ MNIST_SPEEDRUN_DEBUG: 'abc' }), false);
    assert.equal(debugRequested({}), false);
  });
});

test('MNIST_SPEEDRUN_BACKEND takes a backend name', () => {
  for (const name of ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']) assert.equal(readSetting(BACKEND, { [BACKEND.name]: name }), name);
  assert.equal(readSetting(BACKEND, { [BACKEND.name]: ' wasm ' }), 'wasm');
  assert.equal(readSetting(BACKEND, { [BACKEND.name]: '' }), undefined);
  for (const value of ['tpu', 'WASM', 'gpu', 'wasm,cpu']) {
    assert.match(refusal(BACKEND, value).message, /use auto, tensorflow, webgpu, wasm or cpu, or unset it$/);
  }
});

test('MNIST_SPEEDRUN_WASM_THREADS takes auto or a whole number', () => {
  assert.equal(readSetting(WASM_THREADS, { [WASM_THREADS.name]: 'auto' }), 'auto');
  assert.equal(readSetting(WASM_THREADS, { [WASM_THREADS.name]: '0' }), 1);
  assert.equal(readSetting(WASM_THREADS, { [WASM_THREADS.name]: '4' }), 4);
  for (const value of ['abc', '-1', '1.5', '0x4', '1e2', 'Auto', '99999999999999999999']) refusal(WASM_THREADS, value);
});

test('MNIST_SPEEDRUN_MIRRORS takes http(s) URLs; empty means never download', () => {
  assert.deepEqual(readSetting(MIRRORS, { [MIRRORS.name]: '' }), []);
  assert.deepEqual(readSetting(MIRRORS, { [MIRRORS.name]: 'https://a.example/x, http://b.example/y/' }), ['https://a.example/x/', 'http://b.example/y/']);
  assert.match(refusal(MIRRORS, 'ftp://a.example/x').message, /is not allowed: 'ftp:\/\/a\.example\/x' is not an http\(s\) URL; use/);
  assert.match(refusal(MIRRORS, 'https://a.example/ not-a-url').message, /'not-a-url' is not a URL; use/);
});

test('MNIST_DIR takes a folder; anything else is a data error (exit 3), as --data is', () => {
  assert.equal(readSetting(MNIST_DIR, { MNIST_DIR: MNIST }), MNIST);
  const missing = refusal(MNIST_DIR, join(scratch, 'no-such-folder'));
  assert.ok(missing instanceof MnistNotFoundError);
  assert.equal(missing.exitCode, 3);
  assert.match(missing.message, /is not allowed: it does not exist; use a folder holding the four MNIST files train-images-idx3-ubyte\.gz/);
  assert.match(refusal(MNIST_DIR, aFile).message, /is not allowed: it is a file; use a folder/);
  assert.match(refusal(MNIST_DIR, join(aFile, 'under')).message, /it does not exist/);
});

test('MNIST_SPEEDRUN_LEDGER takes a folder, made if missing; a file is refused', () => {
  assert.equal(readSetting(LEDGER, { [LEDGER.name]: join(scratch, 'new-ledger') }), join(scratch, 'new-ledger'));
  assert.match(refusal(LEDGER, aFile).message, /is not allowed: it is a file; use a folder for your ledger/);
});

test('MNIST_SPEEDRUN_FONT takes a readable font file', () => {
  assert.match(refusal(FONT, join(scratch, 'none.ttf')).message, /it does not exist; use a readable TrueType or OpenType font file/);
  assert.match(refusal(FONT, scratch).message, /it is a folder/);
  assert.match(refusal(FONT, aFile).message, /it is not a TrueType or OpenType font/);
});

test('XDG_CACHE_HOME: an absolute path; a relative one is ignored, as the XDG spec says', () => {
  assert.equal(readSetting(XDG_CACHE_HOME, { XDG_CACHE_HOME: '/var/cache/me' }), '/var/cache/me');
  assert.equal(readSetting(XDG_CACHE_HOME, { XDG_CACHE_HOME: 'relative/dir' }), undefined);
  // a cache that cannot be written is not a refused setting: it costs a warning (environment-cli test)
  assert.equal(readSetting(XDG_CACHE_HOME, { XDG_CACHE_HOME: join(aFile, 'cache') }), join(aFile, 'cache'));
});

test('a value with a newline is quoted on one line', () => {
  assert.match(refusal(QUICK, 'yes\nno').message, /^MNIST_SPEEDRUN_QUICK='yes\\u000ano' is not allowed/);
});

describe('checkEnvironment', () => {
  test('accepts an environment of valid, empty and unrelated variables', () => {
    checkEnvironment({
      MNIST_DIR: MNIST, MNIST_SPEEDRUN_QUICK: '', MNIST_SPEEDRUN_BACKEND: 'wasm', MNIST_SPEEDRUN_WASM_THREADS: '1',
      MNIST_SPEEDRUN_MIRRORS: '', MNIST_SPEEDRUN_CLI_CHILD: '1', PATH: '/usr/bin', MNIST_OTHER: 'x',
    });
  });

  test('refuses the first bad setting of every kind', () => {
    for (const setting of SETTINGS) {
      const bad = setting === XDG_CACHE_HOME ? undefined : setting === MNIST_DIR || setting === FONT ? join(scratch, 'none') : setting === LEDGER ? aFile : 'ftp://nope x';
      if (bad === undefined) continue;
      assert.throws(() => checkEnvironment({ [setting.name]: bad }), (error: unknown) => error instanceof SpeedrunError && error.message.startsWith(`${setting.name}=`), setting.name);
    }
  });

  test('refuses a misspelt MNIST_SPEEDRUN_ variable, suggesting the setting meant', () => {
    assert.throws(() => checkEnvironment({ MNIST_SPEEDRUN_QUIK: '1' }), {
      name: 'UsageError',
      message: /^MNIST_SPEEDRUN_QUIK='1' is not allowed: mnist-speedrun has no setting of that name \(did you mean MNIST_SPEEDRUN_QUICK\?\); use one of MNIST_SPEEDRUN_MIRRORS, .*MNIST_SPEEDRUN_DEBUG, or unset it$/,
    });
    assert.throws(() => checkEnvironment({ MNIST_SPEEDRUN_THREADS: '1' }), /MNIST_SPEEDRUN_THREADS='1' is not allowed: mnist-speedrun has no setting of that name \(did you mean MNIST_SPEEDRUN_WASM_THREADS\?\); use one of/);
    assert.throws(() => checkEnvironment({ MNIST_SPEEDRUN_CACHE: '/tmp' }), /MNIST_SPEEDRUN_CACHE='\/tmp' is not allowed: mnist-speedrun has no setting of that name; use one of/);
  });
});
