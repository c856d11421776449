import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../lib/backend';
import { buildNet, lossAndGradients } from '../lib/model';
import { makeRng } from '../lib/random';
import { findWebGpuAdapter, isSoftwareAdapter } from '../lib/webgpu';
import { relativeError } from './relative-error';


const BATCH = 8;
const NET_SEED = 7;

interface LossAndGradients {
  loss: number;
  grads: Record<string, Float32Array>;
}

/** Normalised pixels in MNIST's range and labels 0..9, the same numbers on every backend. */
function batchArrays(seed: number): { images: Float32Array; labels: Int32Array } {
  const rng = makeRng(seed);
  const images = new Float32Array(BATCH * 28 * 28);
  for (let i = 0; i < images.length; i++) images[i] = (rng() - 0.1307) / 0.3081;
  const labels = Int32Array.from({ length: BATCH }, (_, i) => i % 10);
  return { images, labels };
}

/** The final net's loss and gradients on the active backend, read back to arrays. */
async function finalNetLossAndGradients(): Promise<LossAndGradients> {
  const { images, labels } = batchArrays(3);
  const net = buildNet('final', NET_SEED);
  const x = tf.tensor4d(images, [BATCH, 28, 28, 1]);
  const y = tf.tensor1d(labels, 'int32');
  const { loss, grads } = lossAndGradients(net, x, y, { training: false });
  // data(), not dataSync(): WebGPU's synchronous read needs an OffscreenCanvas, which Node lacks
  const result: LossAndGradients = { loss: (await loss.data())[0]!, grads: {} };
  for (const [name, grad] of Object.entries(grads)) result.grads[name] = (await grad.data()) as Float32Array;
  tf.dispose([loss, x, y, ...Object.values(grads)]);
  net.dispose();
  return result;
}


test('software adapters are recognised by flag or by driver name', () => {
  const hardware = { device: 'NVIDIA GeForce RTX 4090', description: 'Vulkan driver 550.54' };
  assert.equal(isSoftwareAdapter(hardware), false);
  assert.equal(isSoftwareAdapter({ ...hardware, isFallbackAdapter: true }), true);
  assert.equal(isSoftwareAdapter({ device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'Mesa 22.3.6' }), true);
  assert.equal(isSoftwareAdapter({ device: 'SwiftShader Device (Subzero)', description: '' }), true);
});

test("WebGPU: the final net's loss and gradients equal the cpu backend's", async (t) => {
  const adapter = await findWebGpuAdapter();
  if (!adapter.found) {
    t.diagnostic(`no WebGPU adapter: ${adapter.reason}`);
    t.skip(`no WebGPU adapter could be created: ${adapter.reason}`);
    return;
  }
  t.diagnostic(`adapter: ${adapter.summary.name} (${adapter.summary.description}), software: ${adapter.summary.software}`);

  // Tensors do not move between backends: compute on cpu, read to arrays, switch, recompute.
  await useBackend({ name: 'cpu', env: {} });
  const onCpu = await finalNetLossAndGradients();

  const report = await useBackend({ name: 'webgpu', env: {} });
  assert.equal(report.name, 'webgpu');
  assert.equal(tf.getBackend(), 'webgpu');
  assert.equal(/software adapter/.test(report.label), adapter.summary.software);
  const onGpu = await finalNetLossAndGradients();

  assert.ok(Number.isFinite(onCpu.loss) && onCpu.loss > 0);
  assert.ok(Math.abs(onGpu.loss - onCpu.loss) / onCpu.loss <= 1e-4, `loss ${onGpu.loss} vs ${onCpu.loss}`);
  assert.deepEqual(Object.keys(onGpu.grads).sort(), Object.keys(onCpu.grads).sort());
  assert.equal(Object.keys(onCpu.grads).length, 8);
  for (const [name, cpuGrad] of Object.entries(onCpu.grads)) {
    const error = relativeError(onGpu.grads[name]!, cpuGrad);
    assert.ok(error <= 1e-4, `${name}: relative error ${error.toExponential(2)}`);
  }

  // asking again keeps the live backend (and its device) instead of starting another
  const live = tf.backend();
  await useBackend({ name: 'webgpu', env: {} });
  assert.equal(tf.backend(), live);
  await useBackend({ name: 'cpu', env: {} });
});
