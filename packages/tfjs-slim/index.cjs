/**
 * The part of @tensorflow/tfjs's API that danfojs-node calls through its '@tensorflow/tfjs-node'
 * dependency (the root package.json maps that name here): tensors and ops with their chained forms
 * (`x.sub(y)`), gradients, a cpu backend, and `tf.data`. Nothing native is loaded.
 */
'use strict';
const core = require('@tensorflow/tfjs-core');
require('./register.cjs');
require('@tensorflow/tfjs-backend-cpu');
const data = require('@tensorflow/tfjs-data');

module.exports = { ...core, data };
