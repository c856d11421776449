/**
 * bench/engine-switches.ts: each switch turns its part of the engine off and on again (the fused
 * layers' kernels unregistered and registered, the native runner's flags set), and an unknown name
 * is refused with the names there are.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { engineSwitch, ENGINE_SWITCHES } from '../bench/engine-switches';
import { POOL_RELU_WHERE } from '../lib/conv-pool-relu';
import { INPUT_CONV_POOL_RELU } from '../lib/input-conv';
import { winogradOn, winogradTile } from '../lib/wasm/native';
import { setupWasm } from '../lib/wasm/setup';

before(async () => {
  await setupWasm({ threads: 1 });
});

test('the fused-layer switches unregister their forward kernels when off and register the same ones when on', () => {
  const backend = tf.backend() as BackendWasm;
  const registered = (): boolean[] => [INPUT_CONV_POOL_RELU, POOL_RELU_WHERE].map((name) => tf.getKernel(name, 'wasm') !== undefined);
  const originals = [INPUT_CONV_POOL_RELU, POOL_RELU_WHERE].map((name) => tf.getKernel(name, 'wasm')!.kernelFunc);
  assert.deepEqual(registered(), [true, true]);
  engineSwitch('input-layer').set(backend, false);
  assert.deepEqual(registered(), [false, true]);
  engineSwitch('later-layers').set(backend, false);
  assert.deepEqual(registered(), [false, false]);
  engineSwitch('fused-layers').set(backend, true);
  assert.deepEqual(registered(), [true, true]);
  assert.deepEqual([INPUT_CONV_POOL_RELU, POOL_RELU_WHERE].map((name) => tf.getKernel(name, 'wasm')!.kernelFunc), originals);
  engineSwitch('fused-layers').set(backend, false);
  assert.deepEqual(registered(), [false, false]);
  engineSwitch('fused-layers').set(backend, true);
  engineSwitch('fused-layers').set(backend, true);
  assert.deepEqual(registered(), [true, true], 'on twice');
});

test('the winograd switches set the runner\'s flags; an unknown switch is refused with the names', () => {
  const backend = tf.backend() as BackendWasm;
  engineSwitch('winograd').set(backend, false);
  assert.equal(winogradOn(backend), false);
  engineSwitch('winograd').set(backend, true);
  assert.equal(winogradOn(backend), true);
  assert.equal(winogradTile(backend), 4, '4x4 tiles by default');
  engineSwitch('winograd-tiles').set(backend, false);
  assert.equal(winogradTile(backend), 2);
  engineSwitch('winograd-tiles').set(backend, true);
  assert.equal(winogradTile(backend), 4);
  assert.throws(() => engineSwitch('fused'), new RangeError(`switch must be one of ${Object.keys(ENGINE_SWITCHES).join(', ')}, got fused`));
  assert.deepEqual(Object.keys(ENGINE_SWITCHES), ['chunks', 'winograd', 'winograd-tiles', 'input-layer', 'later-layers', 'fused-layers']);
});
