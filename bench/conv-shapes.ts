/**
 * GFLOP/s of the engine's convolution kernels, shape by shape, on the wasm backend: the forward
 * pass (bias fused), the input gradient and the filter gradient of every convolution of the
 * ladder's recipes (steps 1-9), at batch 256, best and median of many calls. Says whether a net is
 * slow because of its shapes, and how much a second thread gives each kernel.
 *
 *   tsx bench/conv-shapes.ts [threads=1] [calls=30]
 *
 * A diagnostic, like bench/profile.ts: the machine's noise shows in the gap between best and median.
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { forwardMacsPerImage } from '../lib/flops';
import { netShapes, netSpec } from '../lib/nets';
import { RECIPES, type Recipe } from '../lib/recipes';

export interface ConvCase {
  /** '12x12x24 -> 32, 3x3': input side and channels, output channels, kernel. */
  key: string;
  side: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  /** FLOPs of one pass (forward, input gradient or filter gradient: the same count) for one image (lib/flops.ts). */
  flopsPerImage: number;
  /** The steps whose net has this convolution, and its name there ('c1', 'c2'). */
  usedBy: string[];
}

/** Every distinct convolution of the recipes' nets, in the order first met. */
export function ladderConvCases(recipes: readonly Recipe[] = RECIPES): ConvCase[] {
  const cases = new Map<string, ConvCase>();
  for (const recipe of recipes) {
    const macs = forwardMacsPerImage(recipe.net);
    for (const conv of netShapes(netSpec(recipe.net)).convs) {
      const side = conv.convSide + conv.kernel - 1;
      const key = `${side}x${side}x${conv.inChannels} -> ${conv.outChannels}, ${conv.kernel}x${conv.kernel}`;
      const known = cases.get(key) ??
        { key, side, inChannels: conv.inChannels, outChannels: conv.outChannels, kernel: conv.kernel, flopsPerImage: 2 * macs[conv.name]!, usedBy: [] };
      known.usedBy.push(`step ${recipe.step} ${conv.name}`);
      cases.set(key, known);
    }
  }
  return [...cases.values()];
}

/** Best and median ms of `calls` calls of `run`, after 3 untimed ones; each call waits for its result. */
function time(run: () => tf.Tensor, calls: number): { best: number; median: number } {
  for (let i = 0; i < 3; i++) run().dispose();
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    const out = run();
    out.dataSync();
    ms.push(performance.now() - started);
    out.dispose();
  }
  ms.sort((a, b) => a - b);
  return { best: ms[0]!, median: ms[Math.floor(ms.length / 2)]! };
}

async function main(): Promise<void> {
  const { setupWasm } = await import('../lib/wasm/setup');
  const [threadsArg = '1', callsArg = '30'] = process.argv.slice(2);
  const report = await setupWasm({ threads: Number(threadsArg) });
  const calls = Number(callsArg);
  const batch = 256;
  console.log(`${report.engine}; ${report.threads} thread(s), batch ${batch}, ${calls} calls each: GFLOP/s best (median)`);
  for (const c of ladderConvCases()) {
    const outSide = c.side - c.kernel + 1;
    const flops = c.flopsPerImage * batch;
    const x = tf.randomNormal([batch, c.side, c.side, c.inChannels]) as tf.Tensor4D;
    const w = tf.randomNormal([c.kernel, c.kernel, c.inChannels, c.outChannels]) as tf.Tensor4D;
    const bias = tf.randomNormal([c.outChannels]) as tf.Tensor1D;
    const dy = tf.randomNormal([batch, outSide, outSide, c.outChannels]) as tf.Tensor4D;
    const attrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined };
    const passes = {
      forward: time(() => tf.fused.conv2d({ x, filter: w, bias, strides: 1, pad: 'valid' }), calls),
      // the first layer's input is the data: no net needs its gradient
      'input grad': c.inChannels === 1 ? null : time(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor, calls),
      'filter grad': time(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor, calls),
    };
    const cells = Object.entries(passes).map(([pass, t]) =>
      t === null ? `${pass} -` : `${pass} ${(flops / t.best / 1e6).toFixed(0)} (${(flops / t.median / 1e6).toFixed(0)})`);
    console.log(`  ${c.key.padEnd(20)} ${(flops / 1e6).toFixed(0).padStart(5)} MFLOP: ${cells.join(', ')}   [${c.usedBy.join(', ')}]`);
    tf.dispose([x, w, bias, dy]);
  }
}

// run as a script; importing it, as the tests do, runs nothing
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
