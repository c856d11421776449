/**
 * packages/tfjs-slim stands in for @tensorflow/tfjs: it must register every gradient and chained op
 * that tfjs-core's own registration modules list, be the bundle the tool builds from the installed
 * tfjs-core, and serve danfojs-node as its '@tensorflow/tfjs-node'.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../lib/project-root';
import { REGISTER_FILE, bundleTfjsRegister } from '../tools/bundle-tfjs-register';

const root = projectRoot();
const requireHere = createRequire(join(root, 'package.json'));
const coreDist = dirname(requireHere.resolve('@tensorflow/tfjs-core/package.json')) + '/dist';

/** Kernel names as tfjs-core's register_all_gradients.js imports their configs: './gradients/Abs_grad'. */
function kernelsWithGradients(): string[] {
  const source = readFileSync(join(coreDist, 'register_all_gradients.js'), 'utf8');
  return [...source.matchAll(/from '\.\/gradients\/(\w+)_grad'/g)].map((m) => m[1]!);
}

/** Methods tfjs-core's chained-op modules add to the Tensor class: `prototype.abs = function`. */
function chainedOps(): string[] {
  const dir = join(coreDist, 'public', 'chained_ops');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.js') && !name.endsWith('_test.js'))
    .flatMap((name) => [...readFileSync(join(dir, name), 'utf8').matchAll(/prototype\.(\w+) = function/g)].map((m) => m[1]!));
}

test('register.cjs is what tools/bundle-tfjs-register.ts builds from the installed tfjs-core', async () => {
  const fresh = await bundleTfjsRegister(root);
  assert.ok(readFileSync(REGISTER_FILE, 'utf8') === fresh, 'packages/tfjs-slim/register.cjs is out of date: run npx tsx tools/bundle-tfjs-register.ts');
});

test('lib/gradients registers every gradient and chained op tfjs-core lists, quietly, and they compute', () => {
  const kernels = kernelsWithGradients();
  const methods = chainedOps();
  assert.ok(kernels.length > 90 && methods.length > 120, `found ${kernels.length} gradients and ${methods.length} chained ops`);
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'test/tfjs-slim-child.ts', JSON.stringify(kernels), JSON.stringify(methods)],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stderr, '', 'loading the registrations prints nothing');
  const result = JSON.parse(child.stdout) as { withoutGradient: string[]; withoutMethod: string[]; gradient: number[] };
  assert.deepEqual(result.withoutGradient, []);
  assert.deepEqual(result.withoutMethod, []);
  assert.deepEqual(result.gradient, [2, 0, 6]);
});

test('danfojs-node runs on tfjs-slim: its @tensorflow/tfjs-node is this project\'s package', () => {
  const danfo = dirname(requireHere.resolve('danfojs-node/package.json'));
  const fromDanfo = createRequire(join(danfo, 'package.json'));
  assert.equal(realpathSync(dirname(fromDanfo.resolve('@tensorflow/tfjs-node/package.json'))), realpathSync(join(root, 'packages', 'tfjs-slim')));
  const script = `
    const dfd = require('danfojs-node');
    // as notebook 08 shows the ladder: a frame of row objects, printed
    new dfd.DataFrame([{ step: 7, change: 'batch-256-slim', seconds: 21.2 }, { step: 8, change: 'final', seconds: 10.9 }]).print();
    const df = new dfd.DataFrame({ a: [1, 2, 3, 4], b: [2, 4, 6, 8] });
    const scaled = new dfd.StandardScaler().fitTransform(df.column('a'));
    dfd.tensorflow.ready().then(async () => {
      const sample = await df.sample(2, { seed: 1 });
      console.log(JSON.stringify({ mean: df.mean({ axis: 0 }).values, scaled: scaled.values, sampled: sample.shape[0], backend: dfd.tensorflow.getBackend() }));
    });`;
  const child = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.status, 0, child.stderr);
  const lines = child.stdout.trim().split('\n');
  assert.match(child.stdout, /batch-256-slim.*21\.2/s, 'the printed frame');
  const result = JSON.parse(lines[lines.length - 1]!) as { mean: number[]; scaled: number[]; sampled: number; backend: string };
  assert.deepEqual(result.mean, [2.5, 5]);
  // (a - 2.5) / population std of a (sqrt(1.25))
  const expected = [1, 2, 3, 4].map((a) => (a - 2.5) / Math.sqrt(1.25));
  result.scaled.forEach((value, i) => assert.ok(Math.abs(value - expected[i]!) < 1e-6, `${value} vs ${expected[i]}`));
  assert.equal(result.sampled, 2);
  assert.equal(result.backend, 'cpu');
});
