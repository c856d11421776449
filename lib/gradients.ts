/**
 * Registers the gradient of every TensorFlow.js op. The core package's Node bundle ships none
 * (its ESM build does, but Node cannot load that build's directory imports); the union package's
 * Node bundle registers them all, into the same shared registry, when it is loaded. Import this
 * module for its side effect wherever gradients are taken.
 */
import '@tensorflow/tfjs';
