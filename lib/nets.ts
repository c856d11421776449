/**
 * Nets as data. A `NetSpec` says everything that makes one net differ from another: the
 * convolutions (width, kernel, where the 2x2 max pool sits, whether a ReLU follows), the Dropout2d
 * after them, the hidden width of the fully connected layer and the dropout after it. The input is
 * always a 28x28 grey image and the output 10 log-probabilities; the layers keep PyTorch's names
 * (`c1`, `c2`, `c3` for the convolutions, `f1` for the hidden layer, `f2` for the output).
 *
 * The four nets of the ladder are four such specs (`NETS`); lib/model.ts builds any spec with one
 * forward pass, and `netShapes` derives every layer's size from the spec.
 */
import type { NetName } from './recipes';

/**
 * Where a conv layer's 2x2 max pool (stride 2, no padding, floor on odd maps, as PyTorch's
 * max_pool2d) sits: none, after the ReLU, or before it (the same result, both are monotone, for a
 * quarter of the ReLU work). Without a ReLU both orders are the same: conv, then pool.
 */
export type PoolPlacement = 'none' | 'after-relu' | 'before-relu';

export const POOL_PLACEMENTS: readonly PoolPlacement[] = ['none', 'after-relu', 'before-relu'];

/** One convolution: `out` maps from a `kernel` x `kernel` window, stride 1, no padding. */
export interface ConvSpec {
  out: number;
  kernel: number;
  pool: PoolPlacement;
  relu: boolean;
}

export interface NetSpec {
  /** One to three convolutions, in order (c1, c2, c3). */
  convs: ConvSpec[];
  /** Dropout2d rate after the last convolution (whole feature maps); 0 for none. */
  dropout2d: number;
  /** Hidden width of f1 (followed by a ReLU). */
  fc: number;
  /** Dropout rate after f1's ReLU; 0 for none. */
  dropout: number;
}

/** A net by its ladder name or as a spec. */
export type NetRef = NetName | NetSpec;

export const INPUT_SIDE = 28;
export const INPUT_CHANNELS = 1;
export const CLASSES = 10;
export const MAX_CONVS = 3;

// The ladder's four nets. Dropout happens only in training, as PyTorch's train()/eval().
// #region net-baseline
const baseline: NetSpec = {
  convs: [
    { out: 32, kernel: 3, pool: 'none', relu: true }, // [B, 26, 26, 32]
    { out: 64, kernel: 3, pool: 'after-relu', relu: false }, // [B, 24, 24, 64] -> [B, 12, 12, 64]; no ReLU, as in the original
  ],
  dropout2d: 0.25, // whole feature maps
  fc: 128, // [B, 9216] -> [B, 128]
  dropout: 0.5,
};
// #endregion net-baseline

// #region net-pooled
const pooled: NetSpec = {
  convs: [
    { out: 32, kernel: 3, pool: 'after-relu', relu: true }, // [B, 26, 26, 32] -> [B, 13, 13, 32]
    { out: 64, kernel: 3, pool: 'after-relu', relu: true }, // [B, 11, 11, 64] -> [B, 5, 5, 64]
  ],
  dropout2d: 0,
  fc: 128, // [B, 1600] -> [B, 128]
  dropout: 0.5,
};
// #endregion net-pooled

// #region net-slim
const slim: NetSpec = {
  convs: [
    { out: 24, kernel: 3, pool: 'after-relu', relu: true }, // [B, 13, 13, 24]
    { out: 32, kernel: 3, pool: 'after-relu', relu: true }, // [B, 5, 5, 32]
  ],
  dropout2d: 0,
  fc: 128, // [B, 800] -> [B, 128]
  dropout: 0,
};
// #endregion net-slim

// #region net-final
const final: NetSpec = {
  convs: [
    // pool before ReLU: same result (both monotone), a quarter of the ReLU work
    { out: 24, kernel: 5, pool: 'before-relu', relu: true }, // [B, 24, 24, 24] -> [B, 12, 12, 24]
    { out: 32, kernel: 3, pool: 'before-relu', relu: true }, // [B, 10, 10, 32] -> [B, 5, 5, 32]
  ],
  dropout2d: 0,
  fc: 256, // [B, 800] -> [B, 256]
  dropout: 0,
};
// #endregion net-final

export const NETS: Readonly<Record<NetName, NetSpec>> = { baseline, pooled, slim, final };

/** 'c1', 'c2', ... for the conv at `index` (0-based). */
export function convName(index: number): string {
  return `c${index + 1}`;
}

/** Sizes of one convolution, in PyTorch terms, and the map it leaves (after its pool). */
export interface ConvShape {
  name: string;
  outChannels: number;
  inChannels: number;
  kernel: number;
  /** Side of the square map the convolution writes, before its pool. */
  convSide: number;
  /** Side of the map the layer leaves: after its pool, if it has one. */
  outSide: number;
}

export interface LinearShape {
  outFeatures: number;
  inFeatures: number;
}

export interface NetShapes {
  convs: ConvShape[];
  f1: LinearShape;
  f2: LinearShape;
  /** The feature map f1 reads, [height, width, channels]: PyTorch flattens it as (C, H, W). */
  flattened: [number, number, number];
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function isRate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value < 1;
}

function fieldProblem(spec: NetSpec): string | null {
  if (spec === null || typeof spec !== 'object') return `a net is a name or an object with convs, dropout2d, fc and dropout, got ${String(spec)}`;
  if (!Array.isArray(spec.convs) || spec.convs.length < 1 || spec.convs.length > MAX_CONVS) {
    return `convs must list 1 to ${MAX_CONVS} convolutions, got ${Array.isArray(spec.convs) ? spec.convs.length : String(spec.convs)}`;
  }
  for (const [i, conv] of spec.convs.entries()) {
    const name = convName(i);
    if (conv === null || typeof conv !== 'object') return `${name} must be { out, kernel, pool, relu }, got ${String(conv)}`;
    if (!isPositiveInteger(conv.out)) return `${name}.out must be a whole number above 0, got ${String(conv.out)}`;
    if (!isPositiveInteger(conv.kernel)) return `${name}.kernel must be a whole number above 0, got ${String(conv.kernel)}`;
    if (!POOL_PLACEMENTS.includes(conv.pool)) return `${name}.pool must be one of ${POOL_PLACEMENTS.join(', ')}, got ${String(conv.pool)}`;
    if (typeof conv.relu !== 'boolean') return `${name}.relu must be true or false, got ${String(conv.relu)}`;
  }
  if (!isRate(spec.dropout2d)) return `dropout2d must be a number from 0 up to (not including) 1, got ${String(spec.dropout2d)}`;
  if (!isPositiveInteger(spec.fc)) return `fc must be a whole number above 0, got ${String(spec.fc)}`;
  if (!isRate(spec.dropout)) return `dropout must be a number from 0 up to (not including) 1, got ${String(spec.dropout)}`;
  return null;
}

/** The shapes of `spec`, or the one-line reason it cannot be built on 28x28 images. */
function shapesOrProblem(spec: NetSpec): NetShapes | string {
  const problem = fieldProblem(spec);
  if (problem !== null) return problem;
  let side = INPUT_SIDE;
  let channels = INPUT_CHANNELS;
  const convs: ConvShape[] = [];
  for (const [i, conv] of spec.convs.entries()) {
    const name = convName(i);
    const convSide = side - conv.kernel + 1;
    if (convSide < 1) {
      return `${name}: a ${conv.kernel}x${conv.kernel} kernel does not fit the ${side}x${side} map it reads (28x28 images): use a kernel of at most ${side} or pool less before it`;
    }
    const outSide = conv.pool === 'none' ? convSide : Math.floor(convSide / 2);
    if (outSide < 1) {
      return `${name}: its 2x2 pool would shrink the ${convSide}x${convSide} map to nothing (28x28 images): give it pool none or a smaller kernel`;
    }
    convs.push({ name, outChannels: conv.out, inChannels: channels, kernel: conv.kernel, convSide, outSide });
    side = outSide;
    channels = conv.out;
  }
  const inFeatures = side * side * channels;
  return {
    convs,
    f1: { outFeatures: spec.fc, inFeatures },
    f2: { outFeatures: CLASSES, inFeatures: spec.fc },
    flattened: [side, side, channels],
  };
}

/** Why `spec` cannot be built (one line, naming the field or layer), or null when it can. */
export function netSpecProblem(spec: NetSpec): string | null {
  const shapes = shapesOrProblem(spec);
  return typeof shapes === 'string' ? shapes : null;
}

/**
 * Every layer's size for 28x28x1 inputs, derived from `spec`. A RangeError (one line, naming the
 * layer) when a field is out of range or a map would shrink below 1x1.
 */
export function netShapes(spec: NetSpec): NetShapes {
  const shapes = shapesOrProblem(spec);
  if (typeof shapes === 'string') throw new RangeError(`net spec refused: ${shapes}`);
  return shapes;
}

/** The spec of `ref`: a ladder name's, or the spec itself. A RangeError for an unknown name. */
export function netSpec(ref: NetRef): NetSpec {
  if (typeof ref !== 'string') return ref;
  const spec = (NETS as Record<string, NetSpec | undefined>)[ref];
  if (spec === undefined) throw new RangeError(`unknown net "${ref}": use one of ${Object.keys(NETS).join(', ')}, or a net spec`);
  return spec;
}

/**
 * A short label: the ladder name, or the spec in brief, e.g. 'c1:16k3p-c2:24k3p-fc:128' (p: pooled
 * after the ReLU, q: pooled before it, n: no ReLU; d2: the Dropout2d rate, d: the dropout rate).
 */
export function netLabel(ref: NetRef): string {
  if (typeof ref === 'string') return ref;
  const convs = ref.convs.map((c, i) => {
    const pool = c.pool === 'none' ? '' : c.pool === 'after-relu' ? 'p' : 'q';
    return `${convName(i)}:${c.out}k${c.kernel}${pool}${c.relu ? '' : 'n'}`;
  });
  const parts = [...convs];
  if (ref.dropout2d > 0) parts.push(`d2:${ref.dropout2d}`);
  parts.push(`fc:${ref.fc}`);
  if (ref.dropout > 0) parts.push(`d:${ref.dropout}`);
  return parts.join('-');
}

/** A deep copy of `spec`, for changing one field without touching a shared one. */
export function copyNetSpec(spec: NetSpec): NetSpec {
  return { ...spec, convs: spec.convs.map((c) => ({ ...c })) };
}

function sameConv(a: ConvSpec, b: ConvSpec): boolean {
  return a.out === b.out && a.kernel === b.kernel && a.pool === b.pool && a.relu === b.relu;
}

/** The ladder name whose net `spec` is, field for field, or null: a spec equal to `final` is `final`. */
export function ladderNameOf(spec: NetSpec): NetName | null {
  for (const [name, known] of Object.entries(NETS) as Array<[NetName, NetSpec]>) {
    const same = known.convs.length === spec.convs.length && known.convs.every((c, i) => sameConv(c, spec.convs[i]!)) &&
      known.dropout2d === spec.dropout2d && known.fc === spec.fc && known.dropout === spec.dropout;
    if (same) return name;
  }
  return null;
}
