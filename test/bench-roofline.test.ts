/**
 * The bench's roofline: FLOPs of a training step counted from the architecture (lib/flops.ts)
 * against numbers worked out by hand, the peak module's arithmetic (bench/peak-module.ts), and the
 * peak microbenchmark (bench/peak.ts) for sanity: positive and finite, never for speed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conv2InputSide, forwardMacsPerImage, trainingStepFlops } from '../lib/flops';
import { measurePeak, measurePeaks } from '../bench/peak';
import { CHAINS, peakModule, UNROLL } from '../bench/peak-module';
import { formatRoofline, heldAgainst, peakDrift, peakFor, rooflineOf, unsteady } from '../bench/roofline';
import { runtimeHasRelaxedSimd } from '../lib/wasm/native-build';

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

test('final net: FLOPs of a training step at batch 256, worked out by hand', () => {
  // c1: 24x24 outputs x 24 channels x 5x5x1 taps; pool to 12x12
  // c2: 10x10 outputs x 32 channels x 3x3x24 taps; pool to 5x5x32 = 800
  // f1: 800 x 256; f2: 256 x 10
  assert.equal(conv2InputSide('final'), 12);
  assert.deepEqual(forwardMacsPerImage('final'), { c1: 345_600, c2: 691_200, f1: 204_800, f2: 2_560 });
  // forward + weight gradient for c1; forward + input gradient + weight gradient for the rest:
  // 2 * 345,600 + 3 * (691,200 + 204,800 + 2,560) = 3,386,880 multiply-adds per image
  assert.equal(trainingStepFlops('final', 256), 2 * 3_386_880 * 256);
  assert.equal(trainingStepFlops('final', 256), 1_734_082_560);
});

test('baseline net (no pool after conv1): conv2 reads the full 26x26 map', () => {
  // c1: 26x26 x 32 x 3x3 = 194,688; c2: 24x24 x 64 x 3x3x32 = 10,616,832; f1: 9216 x 128; f2: 128 x 10
  assert.equal(conv2InputSide('baseline'), 26);
  assert.deepEqual(forwardMacsPerImage('baseline'), { c1: 194_688, c2: 10_616_832, f1: 1_179_648, f2: 1_280 });
  assert.equal(trainingStepFlops('baseline', 1), 2 * (2 * 194_688 + 3 * (10_616_832 + 1_179_648 + 1_280)));
});

test('FLOPs grow in proportion to the batch', () => {
  for (const net of ['baseline', 'pooled', 'slim', 'final'] as const) {
    assert.equal(trainingStepFlops(net, 256), 256 * trainingStepFlops(net, 1));
  }
});

test('the peak module computes acc * 0.5 + 0.5 on every chain, plain and fused', (t) => {
  for (const kind of ['plain', 'fused'] as const) {
    const bytes = peakModule(kind);
    if (kind === 'fused' && !runtimeHasRelaxedSimd()) {
      assert.equal(wasm.validate(bytes), false, 'a fused module where the runtime has no relaxed SIMD');
      t.diagnostic(`Node ${process.version} runs no relaxed SIMD: the fused module is checked only to be refused`);
      continue;
    }
    const run = new wasm.Instance(new wasm.Module(bytes)).exports['run'] as (n: number) => number;
    // chains start at 1..12; each update halves their distance to 1, UNROLL updates an iteration
    // (UNROLL = 2: chain i ends one iteration at (i + 1) / 4 + 3 / 4); many leave 1 each
    assert.equal(UNROLL, 2);
    assert.equal(run(0), (CHAINS * (CHAINS + 1)) / 2);
    assert.equal(run(1), (CHAINS * (CHAINS + 1)) / 2 / 4 + (CHAINS * 3) / 4);
    assert.equal(run(200), CHAINS);
  }
});

test('the peak microbenchmark gives a positive, finite GFLOP/s on 1 and 2 threads; fused only with relaxed SIMD', async () => {
  const options = { threads: [1, 2], roundSeconds: 0.05, rounds: 1 };
  const peaks = await measurePeaks(options);
  assert.equal(peaks.node, process.version);
  for (const threads of [1, 2]) assert.ok(Number.isFinite(peaks.plain[threads]) && peaks.plain[threads]! > 0, JSON.stringify(peaks));
  assert.equal(peaks.fused === null, !runtimeHasRelaxedSimd());
  if (peaks.fused !== null) for (const threads of [1, 2]) assert.ok(Number.isFinite(peaks.fused[threads]) && peaks.fused[threads]! > 0);
  if (!runtimeHasRelaxedSimd()) await assert.rejects(measurePeak('fused', options));
});

test('achieved GFLOP/s and share of the peak of the same arithmetic on the same threads', () => {
  const peak = { node: 'v24.0.0', plain: { 1: 20, 2: 40 }, fused: { 1: 40, 2: 80 } };
  // 1.734 GFLOP in 50 ms = 34.68 GFLOP/s
  const final = rooflineOf(1_734_082_560, 50, peakFor(peak, 'simd', 2));
  assert.ok(Math.abs(final.gflops - 34.68165) < 1e-4, String(final.gflops));
  assert.ok(Math.abs(final.percentOfPeak! - 86.70) < 0.01, String(final.percentOfPeak));
  assert.equal(peakFor(peak, 'relaxed', 1), 40);
  assert.equal(rooflineOf(1e9, 1000, peakFor(peak, 'relaxed', 4)).percentOfPeak, null);
  assert.equal(peakFor({ ...peak, fused: null }, 'relaxed', 1), undefined);
});

test('a net is held against the mean of the peak probes around its steps, else the run\'s peak', () => {
  assert.equal(heldAgainst({ before: 60, after: 70 }, 100), 65);
  assert.equal(heldAgainst(undefined, 100), 100);
  assert.equal(heldAgainst(undefined, undefined), undefined);
  // probes 60 and 70: 10 apart, 65 on average
  assert.ok(Math.abs(peakDrift({ before: 60, after: 70 }) - 10 / 65) < 1e-12);
  assert.equal(peakDrift({ before: 50, after: 50 }), 0);
});

test('the roofline table marks a share whose probes moved more than 10%, and says what the mark means', () => {
  const cell = (before: number, after: number) => ({
    ...rooflineOf(1_734_082_560, 50, heldAgainst({ before, after }, undefined)), peakAround: { before, after },
  });
  // 34.68 GFLOP/s against 40 (steady) and against 45 (probes 40 and 50: 22% apart)
  const steady = cell(39, 41);
  const moved = cell(40, 50);
  assert.equal(unsteady(steady), false);
  assert.equal(unsteady(moved), true);
  assert.equal(unsteady(rooflineOf(1e9, 10, 50)), false, 'no probes: nothing to mark');
  const table = formatRoofline([{ variant: 'steady', nets: { final: steady } }, { variant: 'moved', nets: { final: moved } }], ['final']);
  const lines = table.split('\n');
  assert.match(lines[2]!, /^steady\s.*\s87%$/);
  assert.match(lines[3]!, /^moved\s.*\s77%\*$/);
  assert.match(lines[4]!, /^\* the peak probes before and after this net differ by more than 10%/);
  const calm = formatRoofline([{ variant: 'steady', nets: { final: steady } }], ['final']);
  assert.equal(calm.split('\n').length, 3, 'no mark, no note');
});
