/**
 * Bundles TF.js's own op test files (ES modules in @tensorflow/tfjs-core/dist, which Node cannot
 * load as they are: directory imports, no extensions) into one CommonJS file with esbuild.
 *
 * The bundle holds a second copy of tfjs-core; TF.js keeps its engine, kernel and gradient
 * registries and Tensor class on the global object, so that copy drives the engine the process
 * already set up. It exports `loadSpecs(testEnv)`, which makes `testEnv` the only test environment
 * of the bundle's jasmine_util and then evaluates the test files, whose `describeWithFlags` calls
 * register jasmine suites for that environment; jasmine's globals must exist by then.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

/** The folder of @tensorflow/tfjs-core's ES module build and its test files. */
export function tfjsCoreDist(): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist');
}

/** The entry module: relative to tfjsCoreDist(), CommonJS so that the test files load on demand. */
function entrySource(testFiles: readonly string[]): string {
  const specs = testFiles.map((file) => `  require(${JSON.stringify(`./${file}`)});`).join('\n');
  return [
    "const jasmineUtil = require('./jasmine_util');",
    "require('./public/chained_ops/register_all_chained_ops');",
    "require('./register_all_gradients');",
    'exports.loadSpecs = (testEnv) => {',
    '  jasmineUtil.setTestEnvs([testEnv]);',
    specs,
    '};',
    '',
  ].join('\n');
}

/** Writes the bundle of `testFiles` (paths relative to tfjsCoreDist()) to `outFile`. */
export async function buildOpTestBundle(testFiles: readonly string[], outFile: string): Promise<void> {
  await build({
    stdin: { contents: entrySource(testFiles), resolveDir: tfjsCoreDist(), sourcefile: 'op-tests-entry.cjs', loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    // tfjs-core's package.json marks its modules side-effect free: without this the test files,
    // which only register suites, would be dropped
    ignoreAnnotations: true,
    outfile: outFile,
    logLevel: 'error',
  });
}
