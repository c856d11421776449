/**
 * How fast the active backend trains a recipe's net: a few training steps (forward, gradients,
 * optimizer update) at the recipe's batch size on random images, each read back before the clock
 * stops. Automatic backend selection compares candidates by this; it says nothing about accuracy.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildNet, nllLoss } from './model';
import { createOptimizer } from './optimizer';
import type { Recipe } from './recipes';
import { median } from './timing';

export interface StepTimingOptions {
  /** Untimed steps first: kernels compile and memory is allocated on the first one. Default 1. */
  warmUp?: number;
  /** Timed steps. Default 3. */
  steps?: number;
}

/** Median milliseconds per training step of `recipe`'s net on the active backend. */
export async function timeTrainingSteps(recipe: Pick<Recipe, 'net' | 'batchSize' | 'optimizer'>, options: StepTimingOptions = {}): Promise<number> {
  const warmUp = options.warmUp ?? 1;
  const steps = options.steps ?? 3;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a whole number from 1, got ${steps}`);
  const net = buildNet(recipe.net, 1);
  const optimizer = createOptimizer(recipe.optimizer, net.params);
  const x = tf.randomUniform([recipe.batchSize, 28, 28, 1], -0.5, 2.8, 'float32', 1) as tf.Tensor4D;
  const y = tf.randomUniform([recipe.batchSize], 0, 10, 'int32', 2) as tf.Tensor1D;
  const names = Object.keys(net.params);
  const variables = names.map((name) => net.params[name]!);
  const step = async (seed: number): Promise<void> => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => nllLoss(net.forward(x, { training: true, seed }), y), variables);
      optimizer.applyGradients(Object.fromEntries(names.map((name, i) => [name, grads[variables[i]!.name]!])));
      return value;
    });
    // reading the loss back waits for the whole step, on any backend
    await loss.data();
    loss.dispose();
  };
  try {
    for (let i = 0; i < warmUp; i++) await step(i);
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const started = performance.now();
      await step(warmUp + i);
      times.push(performance.now() - started);
    }
    return median(times);
  } finally {
    x.dispose();
    y.dispose();
    optimizer.dispose();
    net.dispose();
  }
}

