/**
 * Parity with real PyTorch on one backend: every schedule, optimizer case, model and training
 * trajectory the fixture manifest lists (PYTORCH_FIXTURES, default ../shared/fixtures/pytorch),
 * within the tolerances of its README. Nothing here names a case: another set of PyTorch values
 * in the same format (another seed) runs through the same tests.
 *
 * Node's runner gives every test file its own process, and a process has one TensorFlow.js
 * backend: test/parity.test.ts runs this suite on cpu, test/parity-wasm.test.ts on wasm.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadMnist, normalise, selectSamples, type Split } from '../lib/data';
import { buildNet, lossAndGradients, loadPytorchWeights, nllLoss, toPytorchLayout, type Net, type PytorchArray } from '../lib/model';
import { createOptimizer } from '../lib/optimizer';
import { NET_NAMES, type NetName, type OptimizerSpec, type ScheduleSpec } from '../lib/recipes';
import { learningRateAt } from '../lib/schedule';
import { capturePoolGradients } from './pool-capture';
import { assertNearTies, choicesFromRouting, closestResolution, conv1Float64, describeFlips, findPoolFlips, type Nchw } from './pool-ties';
import {
  openPytorchFixtures,
  pytorchFixtureDir,
  type FixtureArray,
  type ModelCase,
  type OptimizerCase,
  type PytorchFixtures,
  type ScheduleCase,
  type TrajectoryCase,
} from './pytorch-fixtures';
import { relativeError } from './relative-error';
import { trajectoryOptimizer, trajectorySchedule } from './trajectory-setup';

// tolerances from the fixture README
const LOG_PROB_ABS = 1e-5;
const GRAD_REL = 5e-4;
const SCHEDULE_REL = 1e-9;
const OPTIMIZER_REL = 1e-6;
const TRAJECTORY_LOSS_REL = 1e-5;
const TRAJECTORY_LOG_PROB_ABS = 2e-4;
const TRAJECTORY_DELTA_REL = 1e-2;

export type ParityBackend = 'cpu' | 'wasm';

async function activate(backend: ParityBackend): Promise<void> {
  tf.env().set('PROD', true);
  if (backend === 'wasm') {
    const { setupWasm } = await import('../lib/wasm/setup');
    await setupWasm();
  } else if (!(await tf.setBackend(backend))) {
    throw new Error(`the ${backend} backend did not initialise`);
  }
  assert.equal(tf.getBackend(), backend);
}

function rows(array: FixtureArray): Float32Array[] {
  const width = array.shape[1]!;
  return Array.from({ length: array.shape[0]! }, (_, k) => array.values.subarray(k * width, (k + 1) * width));
}

function scheduleSpecOf(c: ScheduleCase): { spec: ScheduleSpec; baseLr: number } {
  if (c.kind === 'step') {
    return { spec: { kind: 'step', stepSize: c.step_size, gamma: c.gamma }, baseLr: c.lr0 };
  }
  return {
    spec: {
      kind: 'onecycle',
      maxLr: c.max_lr,
      pctStart: c.pct_start,
      anneal: c.anneal_strategy,
      divFactor: c.div_factor,
      finalDivFactor: c.final_div_factor,
      threePhase: c.three_phase ?? false,
    },
    baseLr: c.max_lr,
  };
}

function optimizerSpecOf(c: OptimizerCase): OptimizerSpec {
  return c.kind === 'adam'
    ? { kind: 'adam', lr: c.lr, beta1: c.betas[0], beta2: c.betas[1], eps: c.eps }
    : { kind: 'adadelta', lr: c.lr, rho: c.rho, eps: c.eps };
}

function netName(name: string): NetName {
  assert.ok((NET_NAMES as readonly string[]).includes(name), `unknown net ${name}: lib/model.ts has ${NET_NAMES.join(', ')}`);
  return name as NetName;
}

/** A net holding the named fixture arrays (PyTorch layout) as its parameters. */
function loadedNet(fixtures: PytorchFixtures, name: string, arrays: Record<string, string>): { net: Net; weights: Record<string, FixtureArray> } {
  const net = buildNet(netName(name), 0);
  const weights = Object.fromEntries(Object.entries(arrays).map(([param, array]) => [param, fixtures.array(array)]));
  loadPytorchWeights(net, weights);
  return { net, weights };
}

/** An NCHW float32 batch as the NHWC tensor the nets read. */
function nhwc(images: Nchw): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(images.values, images.shape), [0, 2, 3, 1]) as tf.Tensor4D);
}

function worstAbsoluteDifference(got: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(got.length, expected.length, 'length mismatch');
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
  return worst;
}

/**
 * Called when conv1's weight gradient misses the tolerance: passes only if near-ties in the max
 * pool over conv1's output explain it (test/pool-ties.ts). The windows where this backend's pool
 * chose another element than a float64 forward pass must exist, each must be a tie within float32
 * rounding, and PyTorch's gradient with those windows rerouted (each as PyTorch may have resolved
 * it) must then match ours. Returns what it found, for the test's diagnostics.
 */
function explainByPoolTies(
  net: Net,
  images: Nchw,
  labels: tf.Tensor1D,
  weights: Record<string, FixtureArray>,
  got: Float32Array,
  reference: FixtureArray,
  error: number,
): string {
  const x = nhwc(images);
  const { result, pools } = capturePoolGradients(() => lossAndGradients(net, x, labels, { training: false }));
  tf.dispose([x, result.loss, ...Object.values(result.grads)]);
  const conv = conv1Float64(images, { weight: weights['c1.weight']!, bias: weights['c1.bias']! });
  const pool = pools.find((p) => p.inputShape.join(',') === conv.shape.join(','));
  const failure = `c1.weight gradient: relative error ${error}`;
  assert.ok(pool, `${failure}, and ${net.name} has no max pool over conv1's output that a near-tie could explain it by`);
  const flips = findPoolFlips(conv, choicesFromRouting(pool.routing, pool.inputShape));
  assert.ok(flips.length > 0, `${failure}; every pool window over conv1 chose as float64 does, so no near-tie explains it`);
  assertNearTies(flips);
  const { rerouted, error: correctedError } = closestResolution(got, reference.values, reference.shape, images, flips, pool.upstream, pool.inputShape);
  assert.ok(
    correctedError <= GRAD_REL,
    `${failure}; however PyTorch resolved the ${flips.length} near-tied pool window(s) ` +
      `(${describeFlips(flips)}), it is still at least ${correctedError}`,
  );
  return `c1.weight gradient: relative error ${error}, ${correctedError} once PyTorch's gradient is rerouted ` +
    `through the near-tied pool window(s) it resolved unlike this backend: ${describeFlips(rerouted)}`;
}

/** Checks one model case; returns notes on any near-tie explanation that was needed. */
async function checkModel(fixtures: PytorchFixtures, c: ModelCase, images: Nchw, batchY: FixtureArray): Promise<string[]> {
  const notes: string[] = [];
  const { net, weights } = loadedNet(fixtures, c.name, c.params);
  const x = nhwc(images);
  const y = tf.tensor1d(Int32Array.from(batchY.values), 'int32');
  try {
    const storedCount = Object.values(weights).reduce((sum, w) => sum + w.values.length, 0);
    assert.equal(storedCount, c.param_count, 'stored parameters vs param_count');
    assert.equal(net.paramCount(), c.param_count, 'net parameters vs param_count');

    const logProbs = net.forward(x, { training: false });
    const loss = nllLoss(logProbs, y);
    const worst = worstAbsoluteDifference(await logProbs.data(), fixtures.array(c.logp).values);
    assert.ok(worst <= LOG_PROB_ABS, `log-probs differ by up to ${worst}`);
    const lossValue = (await loss.data())[0]!;
    assert.ok(Math.abs(lossValue - c.loss) <= LOG_PROB_ABS, `loss ${lossValue}, PyTorch ${c.loss}`);
    tf.dispose([logProbs, loss]);

    const { loss: gradLoss, grads } = lossAndGradients(net, x, y, { training: false });
    const ours = await toPytorchLayout(net, grads);
    tf.dispose([gradLoss, ...Object.values(grads)]);
    for (const [name, array] of Object.entries(c.grads)) {
      const reference = fixtures.array(array);
      const got = ours[name];
      assert.ok(got, `no gradient for ${name}`);
      assert.deepEqual(got.shape, reference.shape, `${name} gradient shape`);
      const error = relativeError(got.values, reference.values);
      if (error <= GRAD_REL) continue;
      assert.equal(name, 'c1.weight', `${name} gradient: relative error ${error}`);
      notes.push(explainByPoolTies(net, images, y, weights, got.values, reference, error));
    }
    return notes;
  } finally {
    tf.dispose([x, y]);
    net.dispose();
  }
}

/** Fails when the net's training-mode forward differs from eval mode: dropout masks cannot be PyTorch's. */
function assertNoDropout(net: Net, x: tf.Tensor4D): void {
  const [train, evaluate] = [net.forward(x, { training: true, seed: 1 }), net.forward(x, { training: false })];
  const same = worstAbsoluteDifference(train.dataSync(), evaluate.dataSync()) === 0;
  tf.dispose([train, evaluate]);
  assert.ok(same, `net ${net.name} uses dropout in training: PyTorch's random masks cannot be reproduced, so its trajectory cannot be checked`);
}

/** Step `s`'s batch: training images at the manifest's positions, normalised as the recipes do. */
function trajectoryBatch(train: Split, positions: Float32Array): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const indices = Array.from(positions, (p) => {
    assert.ok(Number.isInteger(p) && p >= 0 && p < train.count, `training position ${p} is not in the file`);
    return p;
  });
  const batch = selectSamples(train, indices);
  return {
    x: tf.tensor4d(normalise(batch.images), [batch.count, 28, 28, 1]),
    y: tf.tensor1d(Int32Array.from(batch.labels), 'int32'),
  };
}

async function checkTrajectory(fixtures: PytorchFixtures, c: TrajectoryCase, train: Split, images: Nchw): Promise<void> {
  const { net, weights: init } = loadedNet(fixtures, c.name, c.init);
  const batchX = nhwc(images);
  const schedule = trajectorySchedule(c);
  const lrAt = (step: number): number => learningRateAt(schedule, c.max_lr, { step, epoch: 0, totalSteps: c.total_steps });
  const optimizer = createOptimizer(trajectoryOptimizer(c, lrAt(0)), net.params);
  try {
    assertNoDropout(net, batchX);
    const indices = rows(fixtures.array(c.indices));
    const losses = fixtures.array(c.losses).values;
    assert.equal(indices.length, c.steps, 'index rows vs steps');
    assert.equal(losses.length, c.steps, 'losses vs steps');
    for (let s = 0; s < c.steps; s++) {
      assert.equal(indices[s]!.length, c.batch, `batch ${s} size`);
      const { x, y } = trajectoryBatch(train, indices[s]!);
      optimizer.setLearningRate(lrAt(s));
      const { loss, grads } = lossAndGradients(net, x, y, { training: true, seed: s });
      const lossValue = loss.dataSync()[0]!;
      optimizer.applyGradients(grads);
      tf.dispose([x, y, loss, ...Object.values(grads)]);
      const error = Math.abs(lossValue - losses[s]!) / Math.abs(losses[s]!);
      assert.ok(error <= TRAJECTORY_LOSS_REL, `step ${s}: loss ${lossValue}, PyTorch ${losses[s]} (relative error ${error})`);
    }

    const logProbs = net.forward(batchX, { training: false });
    const worst = worstAbsoluteDifference(await logProbs.data(), fixtures.array(c.logp).values);
    logProbs.dispose();
    assert.ok(worst <= TRAJECTORY_LOG_PROB_ABS, `log-probs after ${c.steps} steps differ by up to ${worst}`);

    const after = await toPytorchLayout(net, net.params);
    for (const [name, array] of Object.entries(c.delta)) {
      const reference = fixtures.array(array);
      const start: PytorchArray | undefined = init[name];
      const end = after[name];
      assert.ok(start && end, `no parameter ${name}`);
      const count = reference.values.length; // the first delta_rows output rows, or all
      const expectedCount = c.delta_rows?.[name] === undefined
        ? start.values.length
        : c.delta_rows[name] * start.values.length / start.shape[0]!;
      assert.equal(count, expectedCount, `${name} delta size`);
      const delta = Float64Array.from({ length: count }, (_, i) => end.values[i]! - start.values[i]!);
      const error = relativeError(delta, reference.values);
      assert.ok(error <= TRAJECTORY_DELTA_REL, `${name} delta: relative error ${error}`);
    }
  } finally {
    optimizer.dispose();
    batchX.dispose();
    net.dispose();
  }
}

function mnistDir(): string {
  return resolve(process.env['MNIST_DIR'] || '../shared/data/mnist');
}

/** Registers the whole suite on `backend` (made the active backend first). */
export async function registerParitySuite(backend: ParityBackend): Promise<void> {
  await activate(backend);
  const fixtures = openPytorchFixtures(pytorchFixtureDir('../shared/fixtures/pytorch'));
  const { manifest } = fixtures;
  const batchX = fixtures.array('batch_x');
  const images: Nchw = { shape: batchX.shape as Nchw['shape'], values: batchX.values };
  const batchY = fixtures.array('batch_y');

  describe(`PyTorch parity on ${backend} (${fixtures.dir})`, () => {
    test('the manifest lists cases of every kind', () => {
      assert.ok(manifest.schedules.length > 0, 'no schedules');
      assert.ok(manifest.optimizers.length > 0, 'no optimizers');
      assert.ok(manifest.models.length > 0, 'no models');
      assert.ok(manifest.trajectories.length > 0, 'no trajectories');
    });

    manifest.schedules.forEach((c, index) => {
      test(`schedule ${index}: ${c.kind}, ${c.lr.length} values`, () => {
        const { spec, baseLr } = scheduleSpecOf(c);
        // one-cycle is indexed by optimizer step, StepLR by epoch
        const totalSteps = c.lr.length;
        c.lr.forEach((expected, i) => {
          const got = learningRateAt(spec, baseLr, { step: i, epoch: i, totalSteps });
          const error = Math.abs(got - expected) / Math.abs(expected);
          assert.ok(error <= SCHEDULE_REL, `lr[${i}] = ${got}, PyTorch ${expected} (relative error ${error})`);
        });
      });
    });

    manifest.optimizers.forEach((c, index) => {
      test(`optimizer ${index}: ${c.kind} lr ${c.lr}`, () => {
        const p0 = fixtures.array(c.p0);
        const grads = rows(fixtures.array(c.grads));
        const after = rows(fixtures.array(c.after));
        const param = tf.variable(tf.tensor(p0.values, p0.shape));
        const optimizer = createOptimizer(optimizerSpecOf(c), { p: param });
        try {
          grads.forEach((gradValues, k) => {
            const grad = tf.tensor(gradValues, p0.shape);
            optimizer.applyGradients({ p: grad });
            grad.dispose();
            const error = relativeError(param.dataSync(), after[k]!);
            assert.ok(error <= OPTIMIZER_REL, `after step ${k + 1}: relative error ${error}`);
          });
        } finally {
          optimizer.dispose();
          param.dispose();
        }
      });
    });

    manifest.models.forEach((c) => {
      test(`model ${c.name}: eval log-probs, loss and every gradient`, async (t) => {
        for (const note of await checkModel(fixtures, c, images, batchY)) t.diagnostic(note);
      });
    });

    let train: Split | null = null;
    manifest.trajectories.forEach((c) => {
      test(`trajectory ${c.name}: ${c.steps} ${c.optimizer} steps of batch ${c.batch} under one-cycle (max ${c.max_lr})`, async () => {
        train ??= (await loadMnist({ dir: mnistDir() })).train;
        await checkTrajectory(fixtures, c, train, images);
      });
    });
  });
}
