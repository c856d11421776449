/**
 * Whether this machine has a GPU at all, judged without loading a driver: on Linux every GPU that
 * Vulkan or CUDA can drive shows up as a device node (DRM render nodes, NVIDIA's nodes). Loading
 * Dawn just to find out prints the Vulkan loader's warnings on stderr and can leave a Mesa shader
 * cache behind, so automatic selection looks here first.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where the nodes are looked for, for people: also the wording of the skip reason. */
export const GPU_DEVICE_PATTERNS = '/dev/dri/renderD*, /dev/nvidia*';

/**
 * The GPU device nodes under `devDir` (default /dev): DRM render nodes (`dri/renderD128`, any
 * vendor's driver) and NVIDIA's (`nvidia0`, `nvidiactl`). Null where the platform does not expose
 * GPUs as device nodes (macOS, Windows), i.e. where this cannot tell.
 */
export function gpuDeviceNodes(platform: NodeJS.Platform = process.platform, devDir = '/dev'): string[] | null {
  if (platform !== 'linux') return null;
  const render = namesIn(join(devDir, 'dri'))
    .filter((name) => name.startsWith('renderD'))
    .map((name) => join(devDir, 'dri', name));
  const nvidia = namesIn(devDir)
    .filter((name) => name.startsWith('nvidia'))
    .map((name) => join(devDir, name));
  return [...render, ...nvidia].sort();
}

function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
