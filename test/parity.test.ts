/**
 * Parity with real PyTorch: every schedule, optimizer case and model listed in the fixture
 * manifest (PYTORCH_FIXTURES, default ../shared/fixtures/pytorch), within the tolerances of its
 * README. Runs on the cpu backend, or on PARITY_BACKEND (e.g. `PARITY_BACKEND=wasm`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  openPytorchFixtures,
  pytorchFixtureDir,
  type FixtureArray,
  type ModelCase,
  type OptimizerCase,
  type ScheduleCase,
} from '../lib/fixtures';
import { buildNet, lossAndGradients, loadPytorchWeights, nllLoss, toPytorchLayout } from '../lib/model';
import { createOptimizer } from '../lib/optimizer';
import { NET_NAMES, type NetName, type OptimizerSpec, type ScheduleSpec } from '../lib/recipes';
import { learningRateAt } from '../lib/schedule';
import { relativeError } from './relative-error';

// tolerances from the fixture README
const LOG_PROB_ABS = 1e-5;
const GRAD_REL = 5e-4;
const SCHEDULE_REL = 1e-9;
const OPTIMIZER_REL = 1e-6;

tf.env().set('PROD', true);
const backendName = process.env['PARITY_BACKEND'] ?? 'cpu';
if (backendName === 'wasm') {
  const { setupWasm } = await import('../lib/wasm/setup');
  await setupWasm();
} else if (!(await tf.setBackend(backendName))) {
  throw new Error(`PARITY_BACKEND=${backendName} did not initialise: use cpu or wasm`);
}

const fixtures = openPytorchFixtures(pytorchFixtureDir('../shared/fixtures/pytorch'));
const { manifest } = fixtures;


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

describe(`PyTorch parity on ${tf.getBackend()} (${fixtures.dir})`, () => {
  test('the manifest lists cases of every kind', () => {
    assert.ok(manifest.schedules.length > 0, 'no schedules');
    assert.ok(manifest.optimizers.length > 0, 'no optimizers');
    assert.ok(manifest.models.length > 0, 'no models');
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

  const batchX = fixtures.array('batch_x'); // NCHW [16, 1, 28, 28]
  const batchY = fixtures.array('batch_y');

  manifest.models.forEach((c: ModelCase) => {
    test(`model ${c.name}: eval log-probs, loss and every gradient`, async () => {
      assert.ok((NET_NAMES as readonly string[]).includes(c.name), `unknown net ${c.name}`);
      const net = buildNet(c.name as NetName, 0);
      const x = tf.tidy(() => tf.transpose(tf.tensor4d(batchX.values, batchX.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D);
      const y = tf.tensor1d(Int32Array.from(batchY.values), 'int32');
      try {
        const weights = Object.fromEntries(Object.entries(c.params).map(([name, array]) => [name, fixtures.array(array)]));
        const storedCount = Object.values(weights).reduce((sum, w) => sum + w.values.length, 0);
        assert.equal(storedCount, c.param_count, 'stored parameters vs param_count');
        assert.equal(net.paramCount(), c.param_count, 'net parameters vs param_count');
        loadPytorchWeights(net, weights);

        const logProbs = net.forward(x, { training: false });
        const loss = nllLoss(logProbs, y);
        const expectedLogProbs = fixtures.array(c.logp).values;
        const gotLogProbs = await logProbs.data();
        let worst = 0;
        for (let i = 0; i < expectedLogProbs.length; i++) {
          worst = Math.max(worst, Math.abs(gotLogProbs[i]! - expectedLogProbs[i]!));
        }
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
          assert.ok(error <= GRAD_REL, `${name} gradient: relative error ${error}`);
        }
      } finally {
        tf.dispose([x, y]);
        net.dispose();
      }
    });
  });
});
