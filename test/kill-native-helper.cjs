// Preloaded (node --require) by test/wasm-helper.test.ts: kills the native kernels' helper worker
// as it starts, the way a worker that cannot start dies, and leaves every other thread alone.
'use strict';
const { isMainThread, workerData } = require('node:worker_threads');
if (!isMainThread && workerData && Array.isArray(workerData.names) && workerData.control !== undefined) {
  throw new Error('helper killed at start by test/kill-native-helper.cjs');
}
