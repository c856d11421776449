/** The verdict on a step (lib/verdict.ts): 99% or not over its seeds, how many seeds, and its time beside the step before. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verdictMarkdown } from '../lib/verdict';
import type { RunRecord } from '../lib/results';
import { makeRecord } from './ledger-records';

const seeds = (accuracies: number[], seconds: number): RunRecord[] =>
  accuracies.map((testAccuracy, i) => ({ seed: i + 1, seconds, epochs: 1, testAccuracy, validationAccuracy: null, partial: false }));

test('a mean at 99% or above reaches it; the share of seeds and the time ratio to the step before are the records\' own', () => {
  const step8 = makeRecord(8, '2026-12-01T00:00:00.000Z', { runs: seeds([98.9, 99.0, 99.1, 98.8], 8) });
  const step9 = makeRecord(9, '2026-12-01T00:01:00.000Z', { runs: seeds([99.0, 99.1, 98.9, 99.2], 2) });
  const text = verdictMarkdown(step9, step8);
  assert.match(text, /^\*\*Step 9 reaches 99%\*\*: 99\.05% ± 0\.112 mean test accuracy over 4 seeds\./);
  assert.match(text, / 3 of 4 seeds \(75%\) reached 99% or more\./);
  assert.match(text, /Time per run: 2\.00 s against step 8's 8\.00 s on the same machine \(wasm, 2 threads, on Server CPU, 2 cores, 24 GiB, linux-x64\): 0\.25x the time, at 98\.95% for step 8 \(2 of 4 seeds ≥ 99%\)\./);
  assert.doesNotMatch(text, /mode:/, 'a full run says nothing of modes');
});

test('a mean below 99% says by how much; without the step before, it says what to run; outside full mode, it says so', () => {
  const quick = makeRecord(9, '2026-12-01T00:01:00.000Z', { quick: true, mode: 'quick', runs: seeds([71.5, 70.5], 0.5) });
  const text = verdictMarkdown(quick, null);
  assert.match(text, /^\*\*Step 9 does not reach 99%\*\*: 71\.00% ± 0\.500 mean test accuracy over 2 seeds, 28\.00 points short\./);
  assert.match(text, /0 of 2 seeds \(0%\) reached 99% or more\./);
  assert.match(text, /No step 8 is recorded on this machine in quick mode: run its notebook for the time ratio\./);
  assert.match(text, /\(quick mode: a subset and a short budget, so 99% is out of reach; the verdict that counts is a full run's\.\)$/);
  assert.doesNotMatch(text, /NaN|undefined/);
});

test('with steps timed in turns, the time sentence is their ratio and spread, not the records\'', () => {
  const step8 = makeRecord(8, '2026-12-01T00:00:00.000Z', { runs: seeds([98.9, 99.0], 8) });
  const step9 = makeRecord(9, '2026-12-01T00:01:00.000Z', { runs: seeds([99.0, 99.1], 2) });
  // rounds: 10 s vs 6 s, 12 s vs 6 s -> ratios 0.6 and 0.5, mean 0.55, std 0.05 (population, as lib/timing.ts)
  const turns = { steps: [8, 9], seconds: [[10, 12], [6, 6]], ratios: [[1, 1], [0.6, 0.5]] };
  const text = verdictMarkdown(step9, step8, turns);
  assert.match(text, /Time: 0\.55x step 8's \(± 0\.05 over 2 rounds timed in turns on this machine\)\./);
  assert.doesNotMatch(text, /Time per run:/);
  // turns that do not hold the step fall back to the records
  assert.match(verdictMarkdown(step9, step8, { steps: [8, 7], seconds: [[1], [1]], ratios: [[1], [1]] }), /Time per run: 2\.00 s against step 8's 8\.00 s/);
});
