/**
 * The arithmetic of one training step of each net, from its architecture (lib/model.ts
 * ARCHITECTURES): 2 FLOPs per multiply-add of the two convolutions and the two linear layers, in
 * the forward pass, the input gradient (of every layer but conv1: the images need none, and
 * lib/model.ts computes none) and the weight gradient. Bias, ReLU, pooling, softmax, loss and the
 * optimizer are left out: under 1% of the step for every net.
 */
import { ARCHITECTURES } from '../lib/model';
import type { NetName } from '../lib/recipes';

const IMAGE_SIZE = 28;
export type LayerName = 'c1' | 'c2' | 'f1' | 'f2';

/** Multiply-adds of one image through each layer's forward pass. */
export type LayerMacs = Record<LayerName, number>;

/**
 * Side of the feature map conv2 reads: conv1's output, or half of it where a 2x2 max-pool follows
 * conv1. Which one is read off the architecture: f1 reads conv2's output pooled once, of the side
 * `flattened` gives, and exactly one of the two fits.
 */
export function conv2InputSide(name: NetName): number {
  const { c1, c2, flattened } = ARCHITECTURES[name];
  const conv1Out = IMAGE_SIZE - c1.kernel + 1;
  const fits = [conv1Out, Math.floor(conv1Out / 2)].filter((side) => Math.floor((side - c2.kernel + 1) / 2) === flattened[0]);
  if (fits.length !== 1) throw new Error(`${name}: cannot tell where conv2 reads from (flattened ${flattened.join('x')})`);
  return fits[0]!;
}

export function forwardMacsPerImage(name: NetName): LayerMacs {
  const { c1, c2, f1, f2 } = ARCHITECTURES[name];
  const conv1Out = IMAGE_SIZE - c1.kernel + 1;
  const conv2Out = conv2InputSide(name) - c2.kernel + 1;
  return {
    c1: conv1Out * conv1Out * c1.outChannels * c1.kernel * c1.kernel * c1.inChannels,
    c2: conv2Out * conv2Out * c2.outChannels * c2.kernel * c2.kernel * c2.inChannels,
    f1: f1.inFeatures * f1.outFeatures,
    f2: f2.inFeatures * f2.outFeatures,
  };
}

/** FLOPs of one training step at `batchSize`: forward, input gradient (not conv1's), weight gradient. */
export function trainingStepFlops(name: NetName, batchSize: number): number {
  const macs = forwardMacsPerImage(name);
  const passes: Record<LayerName, number> = { c1: 2, c2: 3, f1: 3, f2: 3 };
  const perImage = (Object.keys(passes) as LayerName[]).reduce((sum, layer) => sum + passes[layer] * macs[layer], 0);
  return 2 * perImage * batchSize;
}
