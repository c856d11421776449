/**
 * The GPU kit's application folder: the CLI and the bench's step-8 runner bundled by esbuild for
 * Node 24, beside the files they load at run time, laid out as the checkout lays them out for the
 * code that finds them: a package.json named mnist-speedrun (lib/project-root.ts), native/ for the
 * project's kernels, TensorFlow.js's wasm files beside the bundle (its Emscripten glue looks in the
 * script's own folder), Dawn as the `webgpu` package in node_modules, and Debian's Vulkan loader in
 * lib/ (the run script puts it on LD_LIBRARY_PATH; the GPU's driver brings the rest).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { build, type Plugin } from 'esbuild';

export class KitAppError extends Error {
  override name = 'KitAppError';
}

/** The bundles' entry points: the CLI, one bench variant (what `npm run bench` runs for its step-8 line), the kit's summary. */
export const ENTRY_POINTS = { main: 'cli/main.ts', variant: 'bench/variant.ts', summary: 'tools/kit-summary.ts' } as const;

// Bundled as ES modules; the CommonJS packages inside still read require, __filename and __dirname.
const ESM_BANNER = [
  "import { createRequire as kitCreateRequire } from 'node:module';",
  "import { fileURLToPath as kitFileURLToPath } from 'node:url';",
  "import { dirname as kitDirname } from 'node:path';",
  'const require = kitCreateRequire(import.meta.url);',
  'const __filename = kitFileURLToPath(import.meta.url);',
  'const __dirname = kitDirname(__filename);',
].join(' ');

// Loaded from node_modules at run time (webgpu: its .node binary is found beside its index.js),
// or never in the kit (the native TensorFlow packages, live charts, the tsx relay).
const EXTERNAL = ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'nodeplotlib', 'tsx', 'tsx/*'];

/**
 * PNG charts (lib/plot.ts) import resvg's native binary at load time; the kit draws no PNG, so the
 * import gets a stand-in that names what is missing if anything ever renders.
 */
const WITHOUT_RESVG: Plugin = {
  name: 'kit-without-resvg',
  setup(context) {
    context.onResolve({ filter: /^@resvg\/resvg-js$/ }, () => ({ path: 'resvg', namespace: 'kit-without-resvg' }));
    context.onLoad({ filter: /.*/, namespace: 'kit-without-resvg' }, () => ({
      contents:
        "export class Resvg { constructor() { throw new Error('PNG charts are not in the GPU kit (@resvg/resvg-js is left out): draw them from a checkout'); } }",
      loader: 'js',
    }));
  },
};

const TFJS_WASM_FILES = [
  'dist/tfjs-backend-wasm.wasm',
  'dist/tfjs-backend-wasm-simd.wasm',
  'dist/tfjs-backend-wasm-threaded-simd.wasm',
  // the threaded build's glue and worker, which its pthreads load by path (lib/wasm/threads.ts)
  'wasm-out/tfjs-backend-wasm-threaded-simd.js',
  'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js',
];

const WEBGPU_FILES = ['package.json', 'index.js', 'dist/linux-x64/dawn.node'];

const VULKAN_LOADER = 'libvulkan.so.1';
const VULKAN_LOADER_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64'];

/** Writes the application folder `appDir` from the checkout at `root`. */
export async function buildApp(root: string, appDir: string, cacheDir: string): Promise<void> {
  fs.mkdirSync(appDir, { recursive: true });
  await bundle(root, appDir);
  const requireFromRoot = createRequire(path.join(root, 'package.json'));
  const packageDir = (name: string): string => path.dirname(requireFromRoot.resolve(`${name}/package.json`));
  const wasmDir = packageDir('@tensorflow/tfjs-backend-wasm');
  for (const file of TFJS_WASM_FILES) fs.copyFileSync(path.join(wasmDir, file), path.join(appDir, path.basename(file)));
  copyDir(path.join(root, 'native'), path.join(appDir, 'native'), (name) => name.endsWith('.wasm'));
  const webgpuDir = packageDir('webgpu');
  for (const file of WEBGPU_FILES) copyInto(path.join(webgpuDir, file), path.join(appDir, 'node_modules', 'webgpu', file));
  copyInto(vulkanLoader(cacheDir), path.join(appDir, 'lib', VULKAN_LOADER));
  // named as the project, so lib/project-root.ts finds the kit's native/ as the checkout's; no
  // "type" field: the threaded wasm glue (.js) is CommonJS, the bundles are .mjs
  const manifest = { name: 'mnist-speedrun', private: true, description: 'mnist-speedrun GPU kit (built by npm run kit)' };
  fs.writeFileSync(path.join(appDir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
}

async function bundle(root: string, appDir: string): Promise<void> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ENTRY_POINTS,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    splitting: true,
    outdir: appDir,
    outExtension: { '.js': '.mjs' },
    external: EXTERNAL,
    plugins: [WITHOUT_RESVG],
    banner: { js: ESM_BANNER },
    // tfjs's package.json files list their Node builds as free of side effects, yet importing
    // them is what registers the backends and the gradients
    ignoreAnnotations: true,
    logLevel: 'silent',
  });
  if (result.errors.length > 0) throw new KitAppError(`bundling the CLI failed: ${result.errors[0]!.text}`);
}

/** Debian's Vulkan loader: the installed one (apt-get install libvulkan1), else the package downloaded by apt into the cache. */
function vulkanLoader(cacheDir: string): string {
  for (const dir of VULKAN_LOADER_DIRS) {
    const file = path.join(dir, VULKAN_LOADER);
    if (fs.existsSync(file)) return fs.realpathSync(file);
  }
  const debDir = path.join(cacheDir, 'libvulkan1');
  const extracted = path.join(debDir, 'root', 'usr', 'lib', 'x86_64-linux-gnu', VULKAN_LOADER);
  if (fs.existsSync(extracted)) return fs.realpathSync(extracted);
  fs.mkdirSync(debDir, { recursive: true });
  const download = spawnSync('apt-get', ['download', 'libvulkan1'], { cwd: debDir, encoding: 'utf8' });
  const deb = fs.readdirSync(debDir).find((name) => name.endsWith('.deb'));
  if (download.status !== 0 || deb === undefined) {
    throw new KitAppError(`no ${VULKAN_LOADER} in ${VULKAN_LOADER_DIRS.join(', ')} and apt-get download libvulkan1 failed: apt-get install libvulkan1`);
  }
  spawnSync('dpkg-deb', ['-x', path.join(debDir, deb), path.join(debDir, 'root')]);
  if (!fs.existsSync(extracted)) throw new KitAppError(`${deb} holds no ${VULKAN_LOADER}: apt-get install libvulkan1`);
  return fs.realpathSync(extracted);
}

function copyInto(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

function copyDir(from: string, to: string, keep: (name: string) => boolean): void {
  for (const name of fs.readdirSync(from).filter(keep)) copyInto(path.join(from, name), path.join(to, name));
}
