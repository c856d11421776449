/**
 * The arithmetic of one training step of a net, from its spec (lib/nets.ts netShapes): 2 FLOPs per
 * multiply-add of the convolutions and the two linear layers, in the forward pass, the input
 * gradient (of every layer but c1: the images need none, and lib/model.ts computes none) and the
 * weight gradient. Bias, ReLU, pooling, softmax, loss and the optimizer are left out: under 1% of
 * the step for every ladder net. Pure counting, no tensors: the bench's roofline (bench/) and
 * notebook 09's "where the time goes" (lib/flops-notebook.ts) both count with it.
 */
import { netShapes, netSpec, type NetRef } from './nets';

/** Multiply-adds of one image through each layer's forward pass, by layer name (c1, c2, ..., f1, f2). */
export type LayerMacs = Record<string, number>;

/** Side of the feature map c2 reads: c1's output, pooled or not as the spec says. */
export function conv2InputSide(net: NetRef): number {
  const { convs } = netShapes(netSpec(net));
  if (convs.length < 2) throw new RangeError('the net has a single convolution: there is no c2');
  return convs[0]!.outSide;
}

export function forwardMacsPerImage(net: NetRef): LayerMacs {
  const { convs, f1, f2 } = netShapes(netSpec(net));
  const macs: LayerMacs = {};
  for (const c of convs) macs[c.name] = c.convSide * c.convSide * c.outChannels * c.kernel * c.kernel * c.inChannels;
  macs['f1'] = f1.inFeatures * f1.outFeatures;
  macs['f2'] = f2.inFeatures * f2.outFeatures;
  return macs;
}

/** FLOPs of one image through one layer in training: each pass costs as many multiply-adds as the forward. */
export interface LayerFlops {
  layer: string;
  forward: number;
  /** 0 for c1: nothing needs the gradient of the images. */
  inputGradient: number;
  weightGradient: number;
}

/** FLOPs per training image of every layer, in order (c1, c2, ..., f1, f2). */
export function layerFlopsPerImage(net: NetRef): LayerFlops[] {
  return Object.entries(forwardMacsPerImage(net)).map(([layer, macs]) => ({
    layer,
    forward: 2 * macs,
    inputGradient: layer === 'c1' ? 0 : 2 * macs,
    weightGradient: 2 * macs,
  }));
}

/** FLOPs of one training step at `batchSize`: forward, input gradient (not c1's), weight gradient. */
export function trainingStepFlops(net: NetRef, batchSize: number): number {
  const perImage = layerFlopsPerImage(net).reduce((sum, l) => sum + l.forward + l.inputGradient + l.weightGradient, 0);
  return perImage * batchSize;
}
