/**
 * The committed native/*.wasm (plain and relaxed SIMD, plain and shared heap) are what
 * tools/build-wasm.sh makes from native/train_kernels.c (when the same clang is at hand: in CI it
 * must be), and they own no memory: they import the backend's heap and have no data of their own
 * that could land on top of tfjs's.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { NATIVE_FILES } from '../lib/wasm/native';
import { RELAXED_SIMD_FLAG, runtimeHasRelaxedSimd } from '../lib/wasm/native-build';

const nativeDir = path.join(import.meta.dirname, '..', 'native');
const DATA_SECTION = 11;

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

interface ModuleInterface {
  imports: string[];
  exports: string[];
}

/** What a module imports and exports, compiled here, or where this Node needs a flag for relaxed SIMD, in a child with it. */
function moduleInterface(file: string): ModuleInterface {
  const compile = `
    const module = new WebAssembly.Module(require('node:fs').readFileSync(process.argv.at(-1)));
    console.log(JSON.stringify({
      imports: WebAssembly.Module.imports(module).map((i) => i.module + '.' + i.name + ':' + i.kind),
      exports: WebAssembly.Module.exports(module).map((e) => e.name),
    }));`;
  const flags = file.includes('relaxed') && !runtimeHasRelaxedSimd() ? [RELAXED_SIMD_FLAG] : [];
  const child = spawnSync(process.execPath, [...flags, '-e', compile, path.join(nativeDir, file)], { encoding: 'utf8' });
  assert.equal(child.status, 0, `${file} did not compile on Node ${process.version} ${flags.join(' ')}: ${child.stderr}`);
  return JSON.parse(child.stdout) as ModuleInterface;
}

for (const file of NATIVE_FILES) {
  test(`${file} compiles, imports only memory, exports the kernels, has no data section`, () => {
    const bytes = fs.readFileSync(path.join(nativeDir, file));
    const { imports, exports: exported } = moduleInterface(file);
    assert.deepEqual(imports, ['env.memory:memory']);
    for (const name of ['filter_grad', 'filter_grad_1ch', 'input_grad', 'conv2d', 'max_pool_grad_2x2', 'sum_rows']) {
      assert.ok(exported.includes(name), `${file} exports ${name}`);
    }
    assert.ok(!sectionIds(bytes).includes(DATA_SECTION), `${file} has a data section`);
  });
}

/** Skips, saying why; in CI (CI set) the rebuild must run, so it fails instead. */
function cannotRebuild(t: TestContext, why: string): void {
  if (process.env.CI) assert.fail(`${why}: CI must rebuild the kernels (.ci/apt-packages lists the compiler)`);
  t.skip(why);
}

test('the committed .wasm files, plain and relaxed SIMD, are what tools/build-wasm.sh builds from the C source', (t) => {
  const compiler = process.env.CLANG ?? 'clang-16';
  const clang = spawnSync(compiler, ['--version'], { encoding: 'utf8' });
  // clang-16 runs the wasm-ld of its own LLVM (lld-16): tools/build-wasm.sh puts the folder of the
  // compiler's real file (/usr/lib/llvm-16/bin, behind Debian's /usr/bin/clang-16 link) first on
  // PATH, since clang invoked through the link looks for wasm-ld beside the link only
  const where = spawnSync('sh', ['-c', `readlink -f "$(command -v ${compiler})"`], { encoding: 'utf8' });
  const ownLinker = where.status === 0 ? path.join(path.dirname(where.stdout.trim()), 'wasm-ld') : '';
  const linker = spawnSync(compiler, ['--target=wasm32', '-print-prog-name=wasm-ld'], { encoding: 'utf8' });
  const linkerPath = ownLinker !== '' && fs.existsSync(ownLinker) ? ownLinker : linker.status === 0 ? linker.stdout.trim() : '';
  if (clang.status !== 0 || linkerPath === '' || spawnSync(linkerPath, ['--version']).status !== 0) {
    cannotRebuild(t, `${compiler} or its wasm-ld is not installed (apt-get install clang-16 lld-16)`);
    return;
  }
  const recorded = fs.readFileSync(path.join(nativeDir, 'train_kernels.compiler.txt'), 'utf8').trim();
  const local = clang.stdout.split('\n')[0]!.trim();
  if (local !== recorded) {
    cannotRebuild(t, `${compiler} here is "${local}", the committed build used "${recorded}": bytes may differ`);
    return;
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-speedrun-wasm-'));
  try {
    const build = spawnSync('sh', [path.join(import.meta.dirname, '..', 'tools', 'build-wasm.sh'), out], { encoding: 'utf8' });
    assert.equal(build.status, 0, `tools/build-wasm.sh failed: ${build.stderr}`);
    for (const file of NATIVE_FILES) {
      assert.ok(fs.readFileSync(path.join(out, file)).equals(fs.readFileSync(path.join(nativeDir, file))),
        `native/${file} is stale: run tools/build-wasm.sh and commit the result`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
