/**
 * Which of TF.js's own op tests (jasmine files shipped in @tensorflow/tfjs-core/dist) exercise each
 * kernel the project registers for the wasm backend (lib/wasm/kernels.ts). Paths are relative to
 * the package's dist folder. A kernel registered without an entry here fails
 * test/tfjs-op-tests.test.ts: whatever the project replaces must face TF.js's tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const OP_TEST_FILES: Readonly<Record<string, readonly string[]>> = {
  Conv2D: ['ops/conv2d_test.js', 'ops/conv1d_test.js', 'ops/conv2d_separable_test.js'],
  FusedConv2D: ['ops/fused/fused_conv2d_test.js'],
  // conv2dTranspose runs Conv2DBackpropInput forward; conv2d's gradients run it and the filter gradient
  Conv2DBackpropInput: ['ops/conv2d_transpose_test.js', 'ops/conv2d_test.js'],
  Conv2DBackpropFilter: ['ops/conv2d_test.js', 'ops/conv1d_test.js', 'ops/conv2d_transpose_test.js'],
  MaxPool: ['ops/max_pool_test.js', 'ops/pool_test.js'],
  MaxPoolGrad: ['ops/max_pool_test.js'],
  BatchMatMul: ['ops/mat_mul_test.js'],
  _FusedMatMul: ['ops/fused/fused_mat_mul_test.js'],
  Sum: ['ops/sum_test.js'],
  // clone, variables and every saved tensor of a gradient go through Identity
  Identity: ['ops/clone_test.js', 'variable_test.js'],
  // Tensor.cast and tf.cast are tested with the Tensor class
  Cast: ['tensor_test.js'],
  Slice: ['ops/slice_test.js', 'ops/slice1d_test.js', 'ops/slice2d_test.js', 'ops/slice3d_test.js', 'ops/slice4d_test.js'],
  GatherV2: ['ops/gather_test.js'],
};

/**
 * Kernels of the project's own, which no TF.js op runs (only lib/ calls them, by their own names),
 * so TF.js's op tests cannot cover them; each has its own test file instead.
 */
export const OWN_KERNELS: Readonly<Record<string, string>> = {
  MnistSpeedrunAdadeltaStep: 'test/adadelta-step.test.ts',
  MnistSpeedrunAdamStep: 'test/adam-step.test.ts',
  MnistSpeedrunMaxPoolRelu: 'test/pool-relu.test.ts',
  MnistSpeedrunMaxPoolReluGrad: 'test/pool-relu.test.ts',
  MnistSpeedrunInputConvPoolRelu: 'test/input-conv.test.ts',
  MnistSpeedrunInputConvPoolReluGrad: 'test/input-conv.test.ts',
  MnistSpeedrunMaxPoolReluWhere: 'test/conv-pool-relu.test.ts',
  MnistSpeedrunConvPoolReluGrad: 'test/conv-pool-relu.test.ts',
};

/** Every op test file under `dist` (tfjs-core's dist folder): each `_test.js` below ops/, in a stable order. */
export function allOpTestFiles(dist: string): string[] {
  const files = fs.readdirSync(path.join(dist, 'ops'), { recursive: true, encoding: 'utf8' });
  return files.filter((file) => file.endsWith('_test.js')).map((file) => `ops/${file.split(path.sep).join('/')}`).sort();
}

/** Every op test file of `kernels`, once each, in a stable order. */
export function opTestFilesFor(kernels: readonly string[]): string[] {
  return [...new Set(kernels.flatMap((kernel) => OP_TEST_FILES[kernel] ?? []))].sort();
}

/** The kernels that have no op tests listed here (TF.js's, or the project's own for its own kernels). */
export function kernelsWithoutOpTests(kernels: readonly string[]): string[] {
  return kernels.filter((kernel) => (OP_TEST_FILES[kernel] ?? []).length === 0 && OWN_KERNELS[kernel] === undefined);
}
