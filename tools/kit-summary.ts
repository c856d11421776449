/**
 * The GPU kit's summary.json: what its run script's parts wrote into the output folder, put side
 * by side (the machine, step 8 on WebGPU run by run with its mean, the bench's step-8 line, PyTorch's
 * step 8), each part with its exit code. Run by the kit as `node summary.mjs OUT TRAIN BENCH PYTORCH`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface KitRun {
  step: number;
  backend: string;
  seconds: number;
  epochs: number;
  testAccuracy: number | null;
  seed: number;
  partial: boolean;
}

export interface KitSummary {
  machine: string[];
  webgpu: { exitCode: string; backend: KitBackend | null; runs: KitRun[]; secondsMean: number | null; accuracyMean: number | null };
  bench: { exitCode: string; result: unknown };
  pytorch: { exitCode: string; result: unknown };
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function readText(file: string): string | null {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
}

/** The last line of a file that parses as a JSON object, or null. */
export function lastJsonObject(text: string | null): unknown {
  const lines = (text ?? '').split('\n').filter((line) => line.trim().startsWith('{'));
  for (const line of lines.reverse()) {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      // a truncated line from an interrupted part: try the one before
    }
  }
  return null;
}

/** Where the WebGPU runs ran, from the newest record in the kit's ledger (or null). */
export interface KitBackend {
  backend: unknown;
  backendLabel: unknown;
  device: unknown;
  machine: unknown;
}

function ledgerBackend(ledgerDir: string): KitBackend | null {
  if (!fs.existsSync(ledgerDir)) return null;
  const files = fs.readdirSync(ledgerDir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.json')).sort();
  const newest = files.at(-1);
  if (newest === undefined) return null;
  const record = JSON.parse(fs.readFileSync(path.join(ledgerDir, newest), 'utf8')) as Partial<KitBackend>;
  return { backend: record.backend, backendLabel: record.backendLabel, device: record.device, machine: record.machine };
}

export function summarizeKitOutput(outDir: string, exitCodes: { train: string; bench: string; pytorch: string }): KitSummary {
  const runs = (readText(path.join(outDir, 'train-webgpu.jsonl')) ?? '')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as KitRun);
  const finished = runs.filter((run) => !run.partial);
  return {
    machine: (readText(path.join(outDir, 'machine.txt')) ?? '').split('\n').filter((line) => line !== ''),
    webgpu: {
      exitCode: exitCodes.train,
      backend: ledgerBackend(path.join(outDir, 'ledger')),
      runs,
      secondsMean: mean(finished.map((run) => run.seconds)),
      accuracyMean: mean(finished.flatMap((run) => (run.testAccuracy === null ? [] : [run.testAccuracy]))),
    },
    bench: { exitCode: exitCodes.bench, result: lastJsonObject(readText(path.join(outDir, 'bench-step08-wasm.json'))) },
    pytorch: { exitCode: exitCodes.pytorch, result: lastJsonObject(readText(path.join(outDir, 'pytorch-step08-cuda.json'))) },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [outDir, train = 'unknown', bench = 'skipped', pytorch = 'skipped'] = process.argv.slice(2);
  if (outDir === undefined) {
    process.stderr.write('usage: node summary.mjs OUT_DIR TRAIN_EXIT BENCH_EXIT PYTORCH_EXIT\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(summarizeKitOutput(outDir, { train, bench, pytorch }), null, 2) + '\n');
}
