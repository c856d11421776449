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
 *
 * Fails like the CLI: MNIST is found and verified before anything is timed, and every failure ends
 * with one line `error: <message>` on stderr and the CLI's exit code (README: "Exit codes"). A part
 * that failed is never written as a result: it is left out, named under `failed`, and the bench
 * exits non-zero.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { locateMnist, MNIST_FILES, type MnistLocation } from '../lib/data';
import { checkEnvironment, debugRequested } from '../lib/environment';
import { EXIT_CODES, exitCodeFor, UsageError } from '../lib/errors';
import { didYouMean } from '../lib/did-you-mean';
import { childFailureLine } from './child-failure';
import { NET_NAMES, type NetName } from '../lib/recipes';
import type { VariantOptions, VariantResult } from './variant';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.dirname(benchDir);
const FLAGS = ['--quick', '--cpu', '--no-step08', '--no-pytorch'];
const flags = new Set(process.argv.slice(2));
const quick = flags.has('--quick');
const cores = os.availableParallelism();

interface Row { variant: string; threads: number; msPerStep: Partial<Record<NetName, number>> }

/** A part of the bench that failed: why, in one line. */
class PartFailed extends Error {
  override name = 'PartFailed';
}

/** Runs one variant in a child process; throws PartFailed (with the child's reason) if it fails. */
function runVariant(options: VariantOptions, env: NodeJS.ProcessEnv = process.env): VariantResult {
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(benchDir, 'variant.ts'), JSON.stringify(options)], {
    cwd: projectRoot, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  const lastLine = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !lastLine.startsWith('{')) {
    const why = child.error ? child.error.message : childFailureLine(child.stderr, child.stdout);
    throw new PartFailed(`${JSON.stringify(options)} failed: ${why}`);
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

/** A Python that can import torch: the one PYTHON names (no other), else python3 on the PATH or in /usr/bin; or why none. */
function findTorchPython(): string | { skipped: string } {
  const chosen = process.env['PYTHON'];
  const candidates = chosen ? [chosen] : ['python3', '/usr/bin/python3'];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return { skipped: chosen ? `PYTHON=${chosen} cannot import torch` : 'no Python with torch (apt-get install python3-torch, or set PYTHON)' };
}

function runPytorch(mnistDir: string): { seconds: number; testAccuracy: number; torch: string } | { skipped: string } {
  if (flags.has('--no-pytorch')) return { skipped: '--no-pytorch' };
  const python = findTorchPython();
  if (typeof python !== 'string') return python;
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
 * A folder with the four .gz archives for pytorch_step08.py, which reads only those names: where
 * MNIST was found if it holds them, else a temporary folder of gzipped copies (removed by `cleanUp`).
 */
function gzFolderFor(location: MnistLocation): { folder: string; cleanUp: () => void } {
  const asArchives = location.paths.every((filePath, i) => path.basename(filePath) === MNIST_FILES[i]!.name);
  if (asArchives) return { folder: location.folder, cleanUp: () => {} };
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-speedrun-bench-'));
  location.paths.forEach((filePath, i) => {
    const bytes = fs.readFileSync(filePath);
    const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b ? bytes : gzipSync(bytes, { level: 1 });
    fs.writeFileSync(path.join(folder, MNIST_FILES[i]!.name), gzipped);
  });
  return { folder, cleanUp: () => fs.rmSync(folder, { recursive: true, force: true }) };
}

function runStep08(location: MnistLocation): { wasm: NonNullable<VariantResult['step08']>; pytorch: ReturnType<typeof runPytorch> } {
  // Both runs read the verified files where they were found (MNIST_DIR, --data's forms, or the cache).
  const env = { ...process.env, MNIST_DIR: location.folder };
  console.log(`\nstep 08 (final net, 1 epoch + test pass), MNIST from ${location.folder}`);
  const ours = runVariant({ kind: 'step08', backend: 'wasm', threads: cores, tunedKernels: true }, env).step08;
  if (!ours) throw new PartFailed('step 08 on wasm tuned returned no result');
  console.log(`  wasm tuned, ${cores} threads: ${ours.seconds.toFixed(2)} s, test accuracy ${ours.testAccuracy?.toFixed(2)}%`);
  const archives = flags.has('--no-pytorch') ? null : gzFolderFor(location);
  try {
    const torch = runPytorch(archives?.folder ?? location.folder);
    if ('seconds' in torch) {
      console.log(`  PyTorch ${torch.torch}, ${cores} threads: ${torch.seconds.toFixed(2)} s, test accuracy ${torch.testAccuracy.toFixed(2)}%`);
      console.log(`  ratio wasm / PyTorch: ${(ours.seconds / torch.seconds).toFixed(2)} (goal <= 0.5)`);
    } else {
      console.log(`  PyTorch skipped: ${torch.skipped}`);
    }
    return { wasm: ours, pytorch: torch };
  } finally {
    archives?.cleanUp();
  }
}

async function main(): Promise<number> {
  const startedAt = new Date();
  // every flag and environment variable against its rule before anything is found, spawned or timed
  for (const flag of flags) {
    if (!FLAGS.includes(flag)) throw new UsageError(`unknown bench flag '${flag}'${didYouMean(flag, FLAGS)}: flags are ${FLAGS.join(', ')}`);
  }
  checkEnvironment();
  const step08 = !flags.has('--no-step08');
  // MNIST first, before minutes of timing: missing, foreign or damaged data fails here, as in the CLI.
  const location = step08 ? await locateMnist() : null;
  console.log(`mnist-speedrun bench: ${os.cpus()[0]?.model ?? 'cpu'} x${cores}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('ms per training step (forward + backward + Adam) at batch 256, median of timed steps after warm-up\n');
  const nets: NetName[] = quick ? ['final'] : [...NET_NAMES];
  const rows: Row[] = [];
  const failed: string[] = [];
  const attempt = <T>(part: () => T): T | null => {
    try {
      return part();
    } catch (error) {
      if (!(error instanceof PartFailed)) throw error;
      console.error(`  ${error.message}`);
      failed.push(error.message);
      return null;
    }
  };
  for (const { label, options } of stepVariants()) {
    const result = attempt(() => runVariant(options));
    if (result?.msPerStep) rows.push({ variant: label, threads: result.threads, msPerStep: result.msPerStep });
  }
  console.log(formatTable(rows, nets));

  const report: Record<string, unknown> = {
    startedAt: startedAt.toISOString(), machine: { cpu: os.cpus()[0]?.model, cores, node: process.version, loadAverage: os.loadavg() }, steps: rows,
  };
  if (location !== null) {
    const result = attempt(() => runStep08(location));
    if (result !== null) report['step08'] = result;
  }
  if (failed.length > 0) report['failed'] = failed;
  const resultsDir = path.join(projectRoot, 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten ${path.relative(projectRoot, file)}`);
  if (failed.length > 0) {
    throw new PartFailed(`${failed.length} part${failed.length > 1 ? 's' : ''} of the bench failed, left out of ${path.relative(projectRoot, file)}: ${failed.join('; ')}`);
  }
  return EXIT_CODES.ok;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message.split('\n')[0]}\n`);
    if (debugRequested() && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exit(exitCodeFor(error));
  },
);
