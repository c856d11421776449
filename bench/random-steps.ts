/**
 * Training steps of a net on one fixed random batch, for the diagnostics and the bench's per-step
 * timings (bench/profile.ts, bench/thread-split.ts, bench/variant.ts): a step's cost does not
 * depend on the values, so no data need be loaded. Images from `seed`, labels from `seed + 1`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { lossAndGradients, type Net } from '../lib/model';
import { createOptimizer } from '../lib/optimizer';
import type { OptimizerSpec } from '../lib/recipes';

export interface RandomSteps {
  /** One training step (forward, gradients, optimizer update) with dropout seed `seed`; ms until its loss was read back. */
  step(seed: number): Promise<number>;
  /** Frees the batch and the optimizer's state (not the net). */
  dispose(): void;
}

export function randomSteps(net: Net, optimizer: OptimizerSpec, batchSize: number, seed: number): RandomSteps {
  const update = createOptimizer(optimizer, net.params);
  const x = tf.randomNormal([batchSize, 28, 28, 1], 0, 1, 'float32', seed) as tf.Tensor4D;
  const y = tf.tidy(() => tf.cast(tf.floor(tf.randomUniform([batchSize], 0, 10, 'float32', seed + 1)), 'int32') as tf.Tensor1D);
  return {
    async step(dropoutSeed) {
      const started = performance.now();
      const { loss, grads } = lossAndGradients(net, x, y, { training: true, seed: dropoutSeed });
      update.applyGradients(grads);
      await loss.data(); // the clock stops only once the device has finished the step
      const elapsedMs = performance.now() - started;
      tf.dispose([loss, ...Object.values(grads)]);
      return elapsedMs;
    },
    dispose() {
      tf.dispose([x, y]);
      update.dispose();
    },
  };
}
