/**
 * `npm start` on a machine without a GPU says what it does and nothing else: stderr carries the
 * backend line and the progress lines, no driver chatter from probing a backend it will not use,
 * and no GPU driver cache is written into the user's home.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gpuDeviceNodes } from '../lib/gpu-devices';
import { cli } from './run-cli';

// What the CLI itself writes on stderr in a quick `start`: the backend it chose, the progress of
// the run, and where the record went.
const EXPECTED_LINES: RegExp[] = [
  /^(tensorflow|webgpu|wasm|cpu): .+ \(chosen automatically: .+\)$/,
  /^step 08 run 1\/1 \(seed 1\): training$/,
  /^step 08 run 1\/1 \(seed 1\) epoch \d+: train loss [\d.]+(, test accuracy [\d.]+%)? at [\d.]+ s$/,
  /^step 08 run 1\/1 \(seed 1\): finished in [\d.]+ s, test accuracy [\d.]+%$/,
  /^step 8: .+; recorded in .+$/,
];

async function namesIn(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

const gpus = gpuDeviceNodes();
test(
  'a quick start without a GPU prints only its progress on stderr and writes no shader cache',
  { skip: gpus !== null && gpus.length > 0 ? `this machine has a GPU (${gpus.join(', ')}): WebGPU may rightly be used` : false },
  async () => {
    const home = await mkdtemp(join(tmpdir(), 'quiet-home-'));
    const cache = join(home, 'xdg-cache');
    try {
      const { code, stdout, stderr } = await cli(['start', '--quick'], {
        HOME: home,
        XDG_CACHE_HOME: cache,
        MNIST_SPEEDRUN_LEDGER: join(home, 'ledger'),
      });
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^step 8 \(\w+\): [\d.]+ s, 1 epoch, test accuracy [\d.]+%\n$/);
      const lines = stderr.split('\n').filter((line) => line !== '');
      const unexpected = lines.filter((line) => !EXPECTED_LINES.some((pattern) => pattern.test(line)));
      assert.deepEqual(unexpected, [], `stderr had lines other than progress:\n${stderr}`);
      // every kind of progress line was there, so the patterns above are not vacuous
      for (const pattern of EXPECTED_LINES) assert.ok(lines.some((line) => pattern.test(line)), `no line matched ${pattern}`);
      // Mesa's cache goes to $XDG_CACHE_HOME/mesa_shader_cache (or _db), else ~/.cache/...
      const caches = [...(await namesIn(cache)), ...(await namesIn(join(home, '.cache')))];
      assert.deepEqual(caches.filter((name) => /^mesa/i.test(name)), []);
      // with one candidate (no GPU, no native TensorFlow) nothing is timed, so no choice is remembered
      assert.deepEqual((await namesIn(join(cache, 'mnist-speedrun'))).filter((name) => name.startsWith('backend-choice')), []);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  },
);
