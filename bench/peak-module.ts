/**
 * The wasm module of the peak microbenchmark (bench/peak.ts), written out byte by byte: one
 * exported function `run(iterations: i32) -> f32` that updates CHAINS independent f32x4
 * accumulators `acc = acc * a + b` per iteration, either as f32x4.mul then f32x4.add ('plain') or as
 * one f32x4.relaxed_madd ('fused'). Enough independent chains hide the latency of each operation,
 * so the loop runs at the machine's f32x4 multiply-add throughput. a = b = 0.5: every accumulator
 * converges to 1 (no overflow, no subnormals); `run` returns lane 0 of their sum, which keeps the
 * work alive and makes the arithmetic checkable (run(0) = 1 + 2 + ... + CHAINS).
 */

export type PeakKind = 'plain' | 'fused';
/** Independent accumulators: more than latency x issue width on current x86 and ARM cores. */
export const CHAINS = 12;
/** Loop bodies per branch: the loop's own scalar instructions become negligible. */
export const UNROLL = 2;
/** FLOPs of one call per iteration: each chain does one multiply and one add on 4 lanes, UNROLL times. */
export const FLOPS_PER_ITERATION = CHAINS * UNROLL * 4 * 2;

/** Unsigned LEB128. */
function uleb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

const f32Bytes = (value: number): number[] => Array.from(new Uint8Array(Float32Array.of(value).buffer));

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40], loop: [0x03, 0x40], end: [0x0b], br: (depth: number) => [0x0c, depth], brIf: (depth: number) => [0x0d, depth],
  get: (local: number) => [0x20, ...uleb(local)], set: (local: number) => [0x21, ...uleb(local)],
  i32Const: (value: number) => [0x41, value], i32Eqz: [0x45], i32Sub: [0x6b], f32Const: (value: number) => [0x43, ...f32Bytes(value)],
  f32x4Splat: [0xfd, 0x13], f32x4ExtractLane0: [0xfd, 0x1f, 0x00],
  f32x4Add: [0xfd, ...uleb(0xe4)], f32x4Mul: [0xfd, ...uleb(0xe6)], f32x4RelaxedMadd: [0xfd, ...uleb(0x105)],
};

/** The module's bytes. Locals: 0 the iteration count, 1..CHAINS the accumulators, then a and b. */
export function peakModule(kind: PeakKind): Uint8Array {
  const acc = (i: number): number => 1 + i;
  const a = 1 + CHAINS;
  const b = 2 + CHAINS;
  const body: number[] = [];
  for (let i = 0; i < CHAINS; i++) body.push(...op.f32Const(i + 1), ...op.f32x4Splat, ...op.set(acc(i)));
  body.push(...op.f32Const(0.5), ...op.f32x4Splat, ...op.set(a), ...op.f32Const(0.5), ...op.f32x4Splat, ...op.set(b));
  body.push(...op.block, ...op.loop, ...op.get(0), ...op.i32Eqz, ...op.brIf(1));
  for (let u = 0; u < UNROLL; u++) {
    for (let i = 0; i < CHAINS; i++) {
      // relaxed_madd(x, y, z) = x * y + z
      const update = kind === 'fused'
        ? [...op.get(acc(i)), ...op.get(a), ...op.get(b), ...op.f32x4RelaxedMadd]
        : [...op.get(acc(i)), ...op.get(a), ...op.f32x4Mul, ...op.get(b), ...op.f32x4Add];
      body.push(...update, ...op.set(acc(i)));
    }
  }
  body.push(...op.get(0), ...op.i32Const(1), ...op.i32Sub, ...op.set(0), ...op.br(0), ...op.end, ...op.end);
  body.push(...op.get(acc(0)));
  for (let i = 1; i < CHAINS; i++) body.push(...op.get(acc(i)), ...op.f32x4Add);
  body.push(...op.f32x4ExtractLane0, ...op.end);
  const locals = [0x01, ...uleb(CHAINS + 2), V128];
  const code = [...locals, ...body];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x01, I32, 0x01, F32]), // (i32) -> f32
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, 0x03, ...Buffer.from('run'), 0x00, 0x00]),
    ...section(10, [0x01, ...uleb(code.length), ...code]),
  ]);
}
