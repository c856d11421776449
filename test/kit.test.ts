/**
 * `npm run kit`: the GPU kit is built for real (Node 24 from npm, cached; the CLI bundled; Dawn;
 * the Vulkan loader; MNIST), stays within the 64 MiB a GPU machine accepts, lists every file in its
 * manifest, and its run.sh trains step 8 on WebGPU with no Node on PATH: here on Mesa's software
 * adapter, in quick mode (30 to 90 s on the 2-core machine, by its load).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { userCacheDir } from '../lib/cache-dir';
import { KIT_SIZE_LIMIT, sizeRefusal } from '../tools/kit-manifest';
import { buildKit } from '../tools/kit';
import { spawnOutcome } from './spawn-outcome';
import { tempDirFactory } from './temp-dirs';

const MNIST_DIR = path.resolve(process.env.MNIST_DIR ?? '../shared/data/mnist');
const tempDir = tempDirFactory('mnist-speedrun-kit-test-');

// What run.sh may call: the tools of a bare Linux, linked into a folder that becomes the whole PATH.
const BARE_TOOLS = ['sh', 'tar', 'gzip', 'mktemp', 'chmod', 'rm', 'mkdir', 'cat', 'tee', 'grep', 'cut', 'tr', 'sed', 'uname', 'date', 'ls', 'head', 'basename', 'dirname'];

function barePath(): string {
  const bin = tempDir();
  for (const tool of BARE_TOOLS) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    assert.ok(found.startsWith('/'), `${tool} is not installed here`);
    fs.symlinkSync(found, path.join(bin, tool));
  }
  return bin;
}

/** Every file under `dir` with its size, by a walk of its own. */
function filesOnDisk(dir: string, prefix = ''): Map<string, number> {
  const files = new Map<string, number>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const name = prefix + entry.name;
    if (entry.isDirectory()) for (const [inner, size] of filesOnDisk(full, `${name}/`)) files.set(inner, size);
    else files.set(name, fs.statSync(full).size);
  }
  return files;
}

const run = spawnOutcome;

describe('npm run kit', () => {
  let kitDir = '';

  before(async () => {
    kitDir = path.join(tempDir(), 'kit');
    await buildKit({ out: kitDir, data: MNIST_DIR, cacheDir: path.join(userCacheDir(), 'kit') });
  });

  it('fits in 64 MiB and its manifest lists every file with its size', () => {
    const onDisk = filesOnDisk(kitDir);
    const total = [...onDisk.values()].reduce((a, b) => a + b, 0);
    assert.ok(total <= 64 * 1024 * 1024, `the kit is ${total} bytes`);
    const lines = fs.readFileSync(path.join(kitDir, 'MANIFEST.txt'), 'utf8').trimEnd().split('\n');
    const listed = new Map(lines.slice(0, -1).map((line) => {
      const [bytes, name] = line.trim().split(/\s+/);
      return [name!, Number(bytes)] as const;
    }));
    assert.deepEqual(listed, onDisk);
    assert.match(lines.at(-1)!, new RegExp(`^\\s*${total}\\s+total`));
    for (const part of ['run.sh', 'node.gz', 'app.tar.gz', 'pytorch_reference.py', 'step08-recipe.json', 'mnist/train-images-idx3-ubyte.gz', 'mnist/t10k-labels-idx1-ubyte.gz']) {
      assert.ok(onDisk.has(part), `${part} is missing`);
    }
    const app = spawnSync('tar', ['-tzf', path.join(kitDir, 'app.tar.gz')], { encoding: 'utf8' }).stdout.split('\n');
    for (const part of ['app/main.mjs', 'app/variant.mjs', 'app/node_modules/webgpu/dist/linux-x64/dawn.node', 'app/lib/libvulkan.so.1', 'app/native/train_kernels.wasm', 'app/tfjs-backend-wasm-threaded-simd.wasm']) {
      assert.ok(app.includes(part), `app.tar.gz lacks ${part}`);
    }
  });

  it('refuses a kit over the limit with one line naming its size and the limit', () => {
    assert.equal(sizeRefusal(KIT_SIZE_LIMIT), null);
    assert.equal(
      sizeRefusal(KIT_SIZE_LIMIT + 1),
      'the kit is 64.0 MiB (67108865 bytes), over the 64.0 MiB (67108864 bytes) a GPU machine accepts',
    );
  });

  it('refuses to build without MNIST, naming --data', async () => {
    const empty = tempDir();
    const outcome = await run(process.execPath, ['--import', 'tsx', 'tools/kit.ts', '--data', empty, '--out', path.join(tempDir(), 'kit')], { env: process.env });
    assert.equal(outcome.code, 3, outcome.stderr);
    assert.match(outcome.stderr, /^error: MNIST not found for the kit: .*train-images-idx3-ubyte\.gz is missing; .*npm run kit -- --data DIR/);
  });

  it('run.sh trains step 8 on WebGPU with no Node on PATH and writes the JSON results', async () => {
    const bin = barePath();
    const env = { PATH: bin, OUT: path.join(tempDir(), 'out') };
    assert.notEqual(spawnSync('sh', ['-c', 'command -v node'], { env }).status, 0, 'node is on the bare PATH');
    const outcome = await run(path.join(bin, 'sh'), [path.join(kitDir, 'run.sh'), '--runs', '1', '--quick', '--no-warm-up', '--no-bench', '--no-pytorch'], { env, cwd: tempDir() });
    const log = fs.readFileSync(path.join(env.OUT, 'kit.log'), 'utf8');
    assert.equal(outcome.code, 0, log);
    const runs = fs.readFileSync(path.join(env.OUT, 'train-webgpu.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { backend: string; step: number; testAccuracy: unknown });
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.backend, 'webgpu');
    assert.equal(runs[0]!.step, 8);
    assert.equal(typeof runs[0]!.testAccuracy, 'number');
    const summary = JSON.parse(fs.readFileSync(path.join(env.OUT, 'summary.json'), 'utf8')) as { machine: string[]; webgpu: { exitCode: string; accuracyMean: number; backend: { backendLabel?: string } } };
    assert.equal(summary.webgpu.exitCode, '0');
    assert.equal(summary.webgpu.accuracyMean, runs[0]!.testAccuracy);
    assert.match(String(summary.webgpu.backend?.backendLabel), /^WebGPU \(Dawn on /);
    assert.ok(summary.machine.some((line) => /^node: v24\./.test(line)), summary.machine.join('\n'));
    assert.match(log, /^webgpu: WebGPU \(Dawn on /m);
  });

  it("the kit's app runs the wasm engine (the bench's step-8 backend) from its own files", async () => {
    const work = tempDir();
    assert.equal(spawnSync('sh', ['-c', `gzip -dc "${kitDir}/node.gz" > node && chmod 755 node && tar -xzf "${kitDir}/app.tar.gz"`], { cwd: work }).status, 0);
    const env = { PATH: barePath(), MNIST_DIR: path.join(kitDir, 'mnist'), MNIST_SPEEDRUN_MIRRORS: '', MNIST_SPEEDRUN_WASM_THREADS: '2', XDG_CACHE_HOME: path.join(work, 'cache') };
    const outcome = await run(path.join(work, 'node'), ['main.mjs', 'train', '--step', '8', '--backend', 'wasm', '--quick', '--runs', '1', '--no-warm-up', '--no-record', '--json'], { env, cwd: path.join(work, 'app') });
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stderr, /wasm: WebAssembly \(XNNPACK \+ native kernels: relaxed SIMD/);
    const result = JSON.parse(outcome.stdout.trim()) as { backend: string; testAccuracy: unknown };
    assert.equal(result.backend, 'wasm');
    assert.equal(typeof result.testAccuracy, 'number');
  });
});
