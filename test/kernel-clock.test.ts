/**
 * The bench's kernel clock (bench/kernel-clock.ts): it counts the kernels a step calls only while
 * it measures, divides by the steps, sorts largest first, and gives the kernels back as they were;
 * and the roofline's "where a step's time goes" lines (bench/roofline.ts formatKernelShares).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { startKernelClock } from '../bench/kernel-clock';
import { formatKernelShares, type RooflineRow } from '../bench/roofline';

tf.env().set('PROD', true);
await tf.setBackend('cpu');

test('counts the calls made while measuring, per step, largest first; restores the kernels', async () => {
  const before = tf.getKernel('Add', 'cpu')!.kernelFunc;
  const clock = startKernelClock('cpu');
  assert.notEqual(tf.getKernel('Add', 'cpu')!.kernelFunc, before, 'wrapped while the clock runs');
  const a = tf.ones([64, 64]);
  tf.dispose(tf.add(a, a)); // not measured
  for (let step = 0; step < 2; step++) {
    await clock.measure(async () => {
      tf.tidy(() => tf.matMul(tf.add(a, a), tf.mul(a, a)));
      tf.tidy(() => tf.add(a, a));
    });
  }
  const rows = clock.perStep(2);
  const byName = new Map(rows.map((r) => [r.kernel, r]));
  assert.equal(byName.get('Add')?.callsPerStep, 2);
  assert.equal(byName.get('Multiply')?.callsPerStep, 1);
  assert.equal(byName.get('BatchMatMul')?.callsPerStep, 1);
  assert.ok(rows.every((r) => r.msPerStep >= 0));
  assert.deepEqual(rows.map((r) => r.msPerStep), [...rows.map((r) => r.msPerStep)].sort((x, y) => y - x), 'largest first');
  clock.restore();
  assert.equal(tf.getKernel('Add', 'cpu')!.kernelFunc, before, 'the original kernel is back');
  tf.dispose(a);
});

test('an error inside measure stops the clock and reaches the caller', async () => {
  const clock = startKernelClock('cpu');
  const a = tf.ones([2]);
  await assert.rejects(clock.measure(async () => {
    throw new Error('boom');
  }), /boom/);
  tf.dispose(tf.add(a, a)); // after the failure: not counted
  assert.deepEqual(clock.perStep(1), []);
  clock.restore();
  tf.dispose(a);
});

test('the shares: per variant and net, the largest kernels with ms and share of the step', () => {
  const rows: RooflineRow[] = [{
    variant: 'wasm tuned, 2 threads',
    nets: {
      final: {
        msPerStep: 40, gflops: 43, percentOfPeak: 40,
        topKernels: [
          { kernel: 'Conv2DBackpropInput', msPerStep: 6, callsPerStep: 1 },
          { kernel: 'FusedConv2D', msPerStep: 5, callsPerStep: 2 },
          { kernel: 'MaxPoolGrad', msPerStep: 2, callsPerStep: 2 },
          { kernel: 'Sum', msPerStep: 1, callsPerStep: 3 },
        ],
      },
      slim: { msPerStep: 50, gflops: 30, percentOfPeak: 30 },
    },
  }];
  assert.equal(
    formatKernelShares(rows, ['final', 'slim']),
    'wasm tuned, 2 threads\n  final: Conv2DBackpropInput 6.0 ms (15%), FusedConv2D 5.0 ms (13%), MaxPoolGrad 2.0 ms (5%)',
  );
  assert.equal(formatKernelShares([{ variant: 'x', nets: {} }], ['final']), '', 'nothing clocked: no lines');
  const waited: RooflineRow[] = [{
    variant: 'wasm tuned, 2 threads',
    nets: { final: { ...rows[0]!.nets.final!, topKernels: rows[0]!.nets.final!.topKernels!.slice(0, 1), helperWaitMs: 3 } },
  }];
  assert.equal(
    formatKernelShares(waited, ['final']),
    'wasm tuned, 2 threads\n  final: Conv2DBackpropInput 6.0 ms (15%); waiting for the helper thread 3.0 ms (8%)',
    'the wait observed over the timed steps follows the kernels, as a share of the step',
  );
});
