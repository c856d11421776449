/** Bit-for-bit comparison of float32 results, for the tests of kernels that must give the composed ops' bits. */
import assert from 'node:assert/strict';

/** Fails at the first element whose bits differ, naming the result (`names[k]`), the index and both values. */
export function assertSameBits(actual: Float32Array[], expected: Float32Array[], names: readonly string[], what: string): void {
  names.forEach((name, k) => {
    const a = new Uint32Array(actual[k]!.buffer, actual[k]!.byteOffset, actual[k]!.length);
    const e = new Uint32Array(expected[k]!.buffer, expected[k]!.byteOffset, expected[k]!.length);
    assert.equal(a.length, e.length, `${what}: ${name} has ${a.length} elements, not ${e.length}`);
    const first = a.findIndex((bits, i) => bits !== e[i]);
    assert.equal(first, -1, `${what}: ${name}[${first}] ${actual[k]![first]} vs ${expected[k]![first]}`);
  });
}
