/**
 * Optimizers that step exactly like PyTorch's, with a learning rate the schedule sets before
 * every batch.
 *
 * Adam: TensorFlow.js's own AdamOptimizer computes PyTorch's update (bias-corrected moments,
 * eps added to sqrt(v_hat)) (test/optimizer.test.ts keeps that proof). The Adam here does the
 * same float32 operations in the same order, its state kept the same way (the moments, and
 * beta^t as float32 scalars multiplied by beta each step), with one difference: where the backend
 * has the one-kernel update (./adam-step: the wasm backend's tuned kernels) each variable takes
 * one kernel instead of a dozen. The bits are the same either way.
 *
 * Adadelta: TensorFlow.js's AdadeltaOptimizer (4.22) divides by sqrt(E[g^2] + eps) taken BEFORE
 * this step's gradient is folded in; PyTorch (and the Adadelta paper) use the updated E[g^2].
 * Its very first step is therefore lr * sqrt(eps)/sqrt(eps) * g = lr * g instead of about
 * lr * 1e-3 * sign(g), which the fixtures show (test/optimizer.test.ts keeps that proof), so
 * Adadelta is written here (./adadelta-step), and like Adam it takes one kernel per variable where
 * the backend has it, with the same bits.
 *
 * The optimizer is created for one set of variables (a net's `params`) and takes gradients keyed
 * by the same names, so callers never see TensorFlow.js's engine-wide variable names.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adadeltaStep, adadeltaStepComposed, hasAdadeltaStep } from './adadelta-step';
import { adamStep, adamStepComposed, hasAdamStep } from './adam-step';
import type { OptimizerSpec } from './recipes';

export interface ScheduledOptimizer {
  readonly kind: OptimizerSpec['kind'];
  /** The learning rate the next step uses. */
  readonly learningRate: number;
  setLearningRate(learningRate: number): void;
  /**
   * One step: every variable given at creation moves by its gradient in `grads` (keyed by the
   * same names; all must be present). Does not dispose `grads`.
   */
  applyGradients(grads: Record<string, tf.Tensor>): void;
  /** Frees the optimizer's state (moments, accumulators); not the variables. */
  dispose(): void;
}

interface AdamSlot {
  /** First moment, PyTorch's exp_avg. */
  m: tf.Variable;
  /** Second moment, PyTorch's exp_avg_sq. */
  v: tf.Variable;
}

interface AdadeltaSlot {
  /** E[g^2], PyTorch's square_avg. */
  squareAvg: tf.Variable;
  /** E[dx^2], PyTorch's acc_delta. */
  accDelta: tf.Variable;
}

function checkLearningRate(learningRate: number): void {
  if (!Number.isFinite(learningRate) || learningRate < 0) {
    throw new RangeError(`learning rate must be a finite number >= 0, got ${String(learningRate)}`);
  }
}

/** Keys of `grads` must be exactly the optimizer's variables, so no variable silently stands still. */
function checkGradientNames(names: readonly string[], grads: Record<string, tf.Tensor>): void {
  for (const name of names) {
    if (!grads[name]) throw new RangeError(`no gradient for "${name}": pass one for every parameter`);
  }
  for (const name of Object.keys(grads)) {
    if (!names.includes(name)) {
      throw new RangeError(`gradient for unknown parameter "${name}": expected ${names.join(', ')}`);
    }
  }
}

// #region adam-optimizer
function createAdam(
  spec: Extract<OptimizerSpec, { kind: 'adam' }>,
  params: Record<string, tf.Variable>,
): ScheduledOptimizer {
  const names = Object.keys(params);
  const { beta1, beta2, eps } = spec;
  let learningRate = spec.lr;
  const slots: Record<string, AdamSlot> = {};
  for (const name of names) {
    slots[name] = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(params[name]!), false), v: tf.variable(tf.zerosLike(params[name]!), false) }));
  }
  // beta^t, float32, updated by multiplication after each step (as TensorFlow.js's Adam keeps it)
  const accBeta1 = tf.tidy(() => tf.variable(tf.scalar(beta1), false));
  const accBeta2 = tf.tidy(() => tf.variable(tf.scalar(beta2), false));
  return {
    kind: 'adam',
    get learningRate() {
      return learningRate;
    },
    setLearningRate: (next) => {
      checkLearningRate(next);
      learningRate = next;
    },
    applyGradients: (grads) => {
      checkGradientNames(names, grads);
      const step = hasAdamStep() ? adamStep : adamStepComposed;
      const attrs = { beta1, beta2, epsilon: eps, learningRate };
      tf.tidy(() => {
        const c1 = tf.sub(1, accBeta1) as tf.Scalar;
        const c2 = tf.sub(1, accBeta2) as tf.Scalar;
        for (const name of names) {
          const param = params[name]!;
          const { m, v } = slots[name]!;
          const [param1, m1, v1] = step(param, grads[name]!, m, v, c1, c2, attrs);
          m.assign(m1);
          v.assign(v1);
          param.assign(param1);
        }
        accBeta1.assign(tf.mul(accBeta1, beta1));
        accBeta2.assign(tf.mul(accBeta2, beta2));
      });
    },
    dispose: () => {
      for (const slot of Object.values(slots)) {
        slot.m.dispose();
        slot.v.dispose();
      }
      accBeta1.dispose();
      accBeta2.dispose();
    },
  };
}
// #endregion adam-optimizer

function createAdadelta(
  spec: Extract<OptimizerSpec, { kind: 'adadelta' }>,
  params: Record<string, tf.Variable>,
): ScheduledOptimizer {
  const names = Object.keys(params);
  const { rho, eps } = spec;
  let learningRate = spec.lr;
  const slots: Record<string, AdadeltaSlot> = {};
  for (const name of names) {
    slots[name] = tf.tidy(() => ({
      squareAvg: tf.variable(tf.zerosLike(params[name]!), false),
      accDelta: tf.variable(tf.zerosLike(params[name]!), false),
    }));
  }
  return {
    kind: 'adadelta',
    get learningRate() {
      return learningRate;
    },
    setLearningRate: (next) => {
      checkLearningRate(next);
      learningRate = next;
    },
    applyGradients: (grads) => {
      checkGradientNames(names, grads);
      const step = hasAdadeltaStep() ? adadeltaStep : adadeltaStepComposed;
      const attrs = { rho, epsilon: eps, learningRate };
      tf.tidy(() => {
        for (const name of names) {
          const param = params[name]!;
          const { squareAvg, accDelta } = slots[name]!;
          const [param1, squareAvg1, accDelta1] = step(param, grads[name]!, squareAvg, accDelta, attrs);
          squareAvg.assign(squareAvg1);
          accDelta.assign(accDelta1);
          param.assign(param1);
        }
      });
    },
    dispose: () => {
      for (const slot of Object.values(slots)) {
        slot.squareAvg.dispose();
        slot.accDelta.dispose();
      }
    },
  };
}

/**
 * A PyTorch-exact optimizer for `params` (e.g. `net.params`), hyperparameters all taken from
 * `spec` (TF.js defaults differ from PyTorch's, so none is left to a default). The caller
 * disposes it.
 */
export function createOptimizer(spec: OptimizerSpec, params: Record<string, tf.Variable>): ScheduledOptimizer {
  checkLearningRate(spec.lr);
  if (Object.keys(params).length === 0) throw new RangeError('createOptimizer needs at least one variable');
  switch (spec.kind) {
    case 'adam':
      return createAdam(spec, params);
    case 'adadelta':
      return createAdadelta(spec, params);
  }
}
