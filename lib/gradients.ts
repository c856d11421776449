/**
 * Registers the gradient of every TensorFlow.js op, and the chained ops (`x.add(y)`). The core
 * package's Node bundle ships neither (its ESM build does, but Node cannot load that build's
 * directory imports); `@mnist-speedrun/tfjs-slim/register` (packages/tfjs-slim/register.cjs) is
 * that code bundled for Node by tools/bundle-tfjs-register.ts, as @tensorflow/tfjs bundles it,
 * without the rest of that 141 MB package. It registers into the core package's shared
 * registries. Import this module for its side effect wherever gradients are taken.
 */
import '@tensorflow/tfjs-core';
import '@mnist-speedrun/tfjs-slim/register';
