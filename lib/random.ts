/**
 * Seeded pseudo-random numbers without tensors: shuffles, dropout seeds and init seeds all come
 * from here, so one run seed makes a run repeatable. mulberry32: tiny, fast, good enough for
 * shuffling; not for cryptography.
 */
export type Rng = () => number;

/** A generator of uniform floats in [0, 1) fully determined by `seed` (any 32-bit integer). */
export function makeRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates), as an Int32Array ready for tf.gather. */
export function permutation(n: number, rng: Rng): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}

/** A fresh 31-bit seed drawn from `rng`: derive sub-seeds (init, shuffle, dropout) from one run seed. */
export function nextSeed(rng: Rng): number {
  return Math.floor(rng() * 0x7fffffff);
}
