/**
 * `npm run bench`: how fast each net trains on each available backend and variant, and step 08
 * against PyTorch on the same machine. A benchmark, not a test: numbers depend on the machine and
 * on what else it runs (the load average is printed beside them).
 *
 * Variants (each in a child process, because the wasm backend and its threads are process-wide):
 *   wasm tuned (the native SIMD kernels of native/), wasm composed (the earlier kernel set built
 *   from XNNPACK kernels and JS loops only), wasm stock (only the missing filter gradient added;
 *   few steps, ~1 s each), each on 1 thread and on every core; cpu with `--cpu` (~47 s a step).
 *   All variants run the same model code (bias fused into conv/matMul).
 * Then step 08 (`trainRecipe`, one epoch + test pass) on wasm tuned, and the same recipe in
 * PyTorch through bench/pytorch_step08.py where a Python with torch is found.
 *
 * Flags: --quick (final net only, fewer steps), --cpu, --no-step08, --no-pytorch.
 * Writes results/bench-<timestamp>.json.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { userCacheDir } from '../lib/cache-dir';
import { loadMnist } from '../lib/data';
import { NET_NAMES, type NetName } from '../lib/recipes';
import type { VariantOptions, VariantResult } from './variant';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.dirname(benchDir);
const flags = new Set(process.argv.slice(2));
const quick = flags.has('--quick');
const cores = os.availableParallelism();

interface Row { variant: string; threads: number; msPerStep: Partial<Record<NetName, number>> }

/** Runs one variant in a child process; null (with the reason printed) if it fails. */
function runVariant(options: VariantOptions, env: NodeJS.ProcessEnv = process.env): VariantResult | null {
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(benchDir, 'variant.ts'), JSON.stringify(options)], {
    cwd: projectRoot, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  const lastLine = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !lastLine.startsWith('{')) {
    console.error(`  ${JSON.stringify(options)} failed: ${(child.stderr || child.stdout).trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
  return JSON.parse(lastLine) as VariantResult;
}

function stepVariants(): Array<{ label: string; options: VariantOptions }> {
  const nets: NetName[] = quick ? ['final'] : [...NET_NAMES];
  const threadCounts = [...new Set([1, cores])];
  const variants: Array<{ label: string; options: VariantOptions }> = [];
  const plural = (threads: number): string => `${threads} thread${threads > 1 ? 's' : ''}`;
  for (const threads of threadCounts) {
    variants.push({
      label: `wasm tuned (native SIMD), ${plural(threads)}`,
      options: { kind: 'step', backend: 'wasm', threads, tunedKernels: true, nets, warmupSteps: 2, timedSteps: quick ? 5 : 10 },
    });
  }
  for (const threads of threadCounts) {
    variants.push({
      label: `wasm composed (XNNPACK only), ${plural(threads)}`,
      options: { kind: 'step', backend: 'wasm', threads, tunedKernels: true, kernelSet: 'composed', nets, warmupSteps: 2, timedSteps: quick ? 3 : 5 },
    });
  }
  for (const threads of threadCounts) {
    variants.push({
      label: `wasm stock, ${plural(threads)}`,
      options: { kind: 'step', backend: 'wasm', threads, tunedKernels: false, nets, warmupSteps: 1, timedSteps: quick ? 1 : 2 },
    });
  }
  if (flags.has('--cpu')) {
    variants.push({ label: 'cpu (pure JS)', options: { kind: 'step', backend: 'cpu', threads: 1, tunedKernels: false, nets, warmupSteps: 0, timedSteps: 1 } });
  }
  return variants;
}

/** A Python that can import torch, if any. */
function findTorchPython(): string | null {
  for (const candidate of [process.env['PYTHON'], 'python3', '/usr/bin/python3'].filter((c): c is string => !!c)) {
    const probe = spawnSync(candidate, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return null;
}

function runPytorch(mnistDir: string): { seconds: number; testAccuracy: number; torch: string } | { skipped: string } {
  if (flags.has('--no-pytorch')) return { skipped: '--no-pytorch' };
  const python = findTorchPython();
  if (python === null) return { skipped: 'no Python with torch (apt-get install python3-torch, or set PYTHON)' };
  const child = spawnSync(python, [path.join(benchDir, 'pytorch_step08.py')], {
    env: { ...process.env, MNIST_DIR: mnistDir, TORCH_THREADS: String(cores) }, encoding: 'utf8',
  });
  const lastLine = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !lastLine.startsWith('{')) return { skipped: `pytorch_step08.py failed: ${child.stderr.trim().split('\n').at(-1)}` };
  return JSON.parse(lastLine);
}

function formatTable(rows: Row[], nets: NetName[]): string {
  const header = ['variant', ...nets.map((n) => `${n} ms/step`)];
  const body = rows.map((r) => [r.variant, ...nets.map((n) => (r.msPerStep[n] === undefined ? '-' : r.msPerStep[n]!.toFixed(1)))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/**
 * The folder both step-08 runs read MNIST from: MNIST_DIR, else the user cache, which loadMnist
 * fills the way the library always does (cache hit, or a checksummed download).
 */
async function mnistFolder(): Promise<string> {
  const fromEnv = process.env['MNIST_DIR'];
  if (fromEnv) return fromEnv;
  await loadMnist();
  return userCacheDir();
}

async function main(): Promise<void> {
  const startedAt = new Date();
  console.log(`mnist-speedrun bench: ${os.cpus()[0]?.model ?? 'cpu'} x${cores}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('ms per training step (forward + backward + Adam) at batch 256, median of timed steps after warm-up\n');
  const nets: NetName[] = quick ? ['final'] : [...NET_NAMES];
  const rows: Row[] = [];
  for (const { label, options } of stepVariants()) {
    const result = runVariant(options);
    if (result?.msPerStep) rows.push({ variant: label, threads: result.threads, msPerStep: result.msPerStep });
  }
  console.log(formatTable(rows, nets));

  const report: Record<string, unknown> = {
    startedAt: startedAt.toISOString(), machine: { cpu: os.cpus()[0]?.model, cores, node: process.version, loadAverage: os.loadavg() }, steps: rows,
  };
  if (!flags.has('--no-step08')) {
    const mnistDir = await mnistFolder();
    const env = { ...process.env, MNIST_DIR: mnistDir };
    console.log(`\nstep 08 (final net, 1 epoch + test pass), MNIST from ${mnistDir}`);
    const ours = runVariant({ kind: 'step08', backend: 'wasm', threads: cores, tunedKernels: true }, env);
    const torch = runPytorch(mnistDir);
    if (ours?.step08) {
      console.log(`  wasm tuned, ${ours.threads} threads: ${ours.step08.seconds.toFixed(2)} s, test accuracy ${ours.step08.testAccuracy?.toFixed(2)}%`);
    }
    if ('seconds' in torch) {
      console.log(`  PyTorch ${torch.torch}, ${cores} threads: ${torch.seconds.toFixed(2)} s, test accuracy ${torch.testAccuracy.toFixed(2)}%`);
      if (ours?.step08) console.log(`  ratio wasm / PyTorch: ${(ours.step08.seconds / torch.seconds).toFixed(2)} (goal <= 0.5)`);
    } else {
      console.log(`  PyTorch skipped: ${torch.skipped}`);
    }
    report['step08'] = { wasm: ours?.step08 ?? null, pytorch: torch };
  }
  const resultsDir = path.join(projectRoot, 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten ${path.relative(projectRoot, file)}`);
}

await main();
