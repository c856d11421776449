/**
 * The tests' one measure of agreement between two arrays: norm of the difference over norm of the
 * reference (the PyTorch fixtures' README uses it for gradients; per-element ratios are
 * meaningless where a value is nearly zero). A zero reference gives the plain norm of the difference.
 */
import assert from 'node:assert/strict';

export function relativeError(got: ArrayLike<number>, reference: ArrayLike<number>): number {
  assert.equal(got.length, reference.length, 'length mismatch');
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < reference.length; i++) {
    diff += (got[i]! - reference[i]!) ** 2;
    norm += reference[i]! ** 2;
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}
