/**
 * Label smoothing (Recipe.labelSmoothing) against PyTorch's own CrossEntropyLoss(label_smoothing):
 * the loss of the same logits, and its gradient with respect to them (the nets end in log_softmax,
 * so that is the gradient training sees), computed here by lib/model.ts and there by torch. Needs a Python that imports torch: without one the test
 * skips and says why, except in CI, where that is a failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { findTorchPython, pytorchRecipeInput, PYTORCH_REFERENCE_SCRIPT } from '../bench/pytorch-reference';
import '../lib/gradients';
import { smoothedNllLoss } from '../lib/model';
import { recipeForStep } from '../lib/recipes';

const found = findTorchPython();
const skip = typeof found !== 'string' && !process.env.CI ? found.skipped : false;

const LOGITS = [
  [2.0, -1.0, 0.5, 0.0, 1.5, -0.5, 0.25, -2.0, 1.0, 0.75],
  [-0.3, 0.9, 0.1, 2.2, -1.1, 0.4, 0.0, 0.6, -0.8, 1.3],
  [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0],
];
const LABELS = [0, 3, 1];

function torchLossAndGradient(python: string, smoothing: number): { loss: number; grad: number[][] } {
  const program = `
import json, sys, torch, torch.nn.functional as F
logits, labels, s = json.loads(sys.stdin.read())
z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
loss = F.cross_entropy(F.log_softmax(z, dim=1), torch.tensor(labels), label_smoothing=s)
loss.backward()
print(json.dumps({"loss": loss.item(), "grad": z.grad.tolist()}))
`;
  const child = spawnSync(python, ['-c', program], { input: JSON.stringify([LOGITS, LABELS, smoothing]), encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as { loss: number; grad: number[][] };
}

test('smoothedNllLoss and its gradient are PyTorch\'s cross_entropy with label_smoothing', { skip }, () => {
  assert.ok(typeof found === 'string', `CI must run the PyTorch comparison: ${typeof found === 'string' ? '' : found.skipped}`);
  tf.setBackend('cpu');
  for (const smoothing of [0, 0.1, 0.3]) {
    const expected = torchLossAndGradient(found, smoothing);
    const logits = tf.tensor2d(LOGITS);
    const labels = tf.tensor1d(LABELS, 'int32');
    const { value, grads } = tf.tidy(() => {
      const variable = tf.variable(logits);
      const result = tf.variableGrads(() => smoothedNllLoss(tf.logSoftmax(variable as unknown as tf.Tensor2D), labels, smoothing), [variable]);
      const grad = result.grads[variable.name]!;
      const out = { value: tf.keep(result.value), grads: tf.keep(grad) };
      variable.dispose();
      return out;
    });
    assert.ok(Math.abs(value.dataSync()[0]! - expected.loss) < 1e-5, `s=${smoothing}: loss ${value.dataSync()[0]} vs PyTorch ${expected.loss}`);
    const ours = grads.arraySync() as number[][];
    ours.forEach((row, i) => row.forEach((g, k) => assert.ok(Math.abs(g - expected.grad[i]![k]!) < 1e-6, `s=${smoothing}: grad[${i}][${k}] ${g} vs ${expected.grad[i]![k]}`)));
    tf.dispose([logits, labels, value, grads]);
  }
});

test('the PyTorch reference refuses a labelSmoothing outside [0, 1) in one line, exit 2', () => {
  const python = typeof found === 'string' ? found : 'python3';
  const input = { ...pytorchRecipeInput(recipeForStep(8), { seed: 1, threads: 1 }), labelSmoothing: 1 };
  const child = spawnSync(python, [PYTORCH_REFERENCE_SCRIPT, '-'], { input: JSON.stringify(input), encoding: 'utf8' });
  assert.equal(child.status, 2, child.stderr);
  assert.equal(child.stderr.trim(), 'error: labelSmoothing must be a number in [0, 1), got 1');
});
