/**
 * The committed native/*.wasm are what tools/build-wasm.sh makes from native/train_kernels.c (when
 * the same clang is at hand), and they own no memory: they import the backend's heap and have no
 * data of their own that could land on top of tfjs's.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { NATIVE_FILES } from '../lib/wasm/native';

const nativeDir = path.join(import.meta.dirname, '..', 'native');
const DATA_SECTION = 11;

/** The slice of the WebAssembly JS API used here (the project's TypeScript lib has no DOM types). */
interface ModuleApi {
  Module: { new (bytes: Uint8Array): object; imports(m: object): Array<{ module: string; name: string; kind: string }>; exports(m: object): Array<{ name: string }> };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: ModuleApi }).WebAssembly;

/** Section ids of a WebAssembly binary, in order. */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  while (at < bytes.length) {
    ids.push(bytes[at++]!);
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++]!;
      size |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
    }
    at += size;
  }
  return ids;
}

for (const file of Object.values(NATIVE_FILES)) {
  test(`${file} imports only memory, exports the kernels, has no data section`, () => {
    const bytes = fs.readFileSync(path.join(nativeDir, file));
    const module = new WebAssembly.Module(bytes);
    assert.deepEqual(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`), ['env.memory:memory']);
    const exported = WebAssembly.Module.exports(module).map((e) => e.name);
    for (const name of ['filter_grad', 'filter_grad_1ch', 'input_grad', 'conv2d', 'max_pool_grad_2x2', 'sum_rows']) {
      assert.ok(exported.includes(name), `${file} exports ${name}`);
    }
    assert.ok(!sectionIds(bytes).includes(DATA_SECTION), `${file} has a data section`);
  });
}

test('the committed .wasm files are what tools/build-wasm.sh builds from the C source', (t) => {
  const clang = spawnSync('clang', ['--version'], { encoding: 'utf8' });
  const linker = spawnSync('wasm-ld', ['--version'], { encoding: 'utf8' });
  if (clang.status !== 0 || linker.status !== 0) {
    t.skip('clang or wasm-ld not installed (apt-get install clang lld)');
    return;
  }
  const recorded = fs.readFileSync(path.join(nativeDir, 'train_kernels.compiler.txt'), 'utf8').trim();
  const local = clang.stdout.split('\n')[0]!.trim();
  if (local !== recorded) {
    t.skip(`clang here is "${local}", the committed build used "${recorded}": bytes may differ`);
    return;
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-speedrun-wasm-'));
  try {
    const build = spawnSync('sh', [path.join(import.meta.dirname, '..', 'tools', 'build-wasm.sh'), out], { encoding: 'utf8' });
    assert.equal(build.status, 0, `tools/build-wasm.sh failed: ${build.stderr}`);
    for (const file of Object.values(NATIVE_FILES)) {
      assert.ok(fs.readFileSync(path.join(out, file)).equals(fs.readFileSync(path.join(nativeDir, file))),
        `native/${file} is stale: run tools/build-wasm.sh and commit the result`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
