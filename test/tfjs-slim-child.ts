/**
 * Child process of test/tfjs-slim.test.ts, in a process where nothing but tfjs-core and
 * lib/gradients is loaded: prints, as one JSON line, which kernels have a gradient, which chained
 * ops the Tensor class has, and a gradient computed with them.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../lib/gradients';

const kernels = JSON.parse(process.argv[2] ?? '[]') as string[];
const methods = JSON.parse(process.argv[3] ?? '[]') as string[];

// the cpu backend's banner recommending tfjs-node is not what this test listens for
tf.env().set('PROD', true);
await tf.setBackend('cpu');
const x = tf.tensor1d([1, -2, 3]);
// chained ops exist only once registered, and tfjs-core's typings leave them out
interface Chained extends tf.Tensor {
  mul(b: tf.Tensor): Chained;
  sum(): tf.Tensor;
}
// d/dx sum(relu(x) * x) = 2x where x > 0, else 0; written with chained ops
const gradient = tf.grad((v: tf.Tensor) => (tf.relu(v) as Chained).mul(v).sum())(x);
process.stdout.write(
  JSON.stringify({
    withoutGradient: kernels.filter((name) => tf.getGradient(name) === undefined),
    withoutMethod: methods.filter((name) => typeof (tf.Tensor.prototype as unknown as Record<string, unknown>)[name] !== 'function'),
    gradient: Array.from(await gradient.data()),
  }) + '\n',
);
