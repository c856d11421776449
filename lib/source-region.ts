/**
 * The code a step changes, printed from the library itself rather than retyped into a notebook.
 * A region is marked in lib/*.ts by a pair of comments, `// #region net-final` and
 * `// #endregion net-final` (the folding markers editors already know); `showCode('net-final')`
 * shows the lines between them with the file and line numbers they come from.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { didYouMean } from './did-you-mean';
import { UsageError } from './errors';
import { projectRoot } from './project-root';
import { isNotebookKernel, showMarkdown } from './table-notebook';

/** Every region the library marks, with what it shows; the tests check each is marked exactly once. */
export const REGIONS: Readonly<Record<string, string>> = {
  'net-baseline': 'the baseline net, as data (steps 1-2)',
  'net-pooled': 'the pooled net, as data (steps 3-6)',
  'net-slim': 'the slim net, as data (step 7)',
  'net-final': 'the final net, as data (step 8)',
  'net-forward': 'the one forward pass every net spec runs (all steps)',
  'per-sample-batches': "the per-sample loader's batch assembly (steps 1-3)",
  'device-batches': 'batches as slices of device tensors (steps 4-9)',
  'early-stop': 'the test pass after each epoch and the stop at 99% (steps 2-5)',
  'step-lr': 'the StepLR schedule (steps 1-5)',
  'one-cycle': 'the one-cycle schedule (steps 6-9)',
  'adadelta-update': "Adadelta's update of every parameter (steps 1-7)",
  'adam-optimizer': 'Adam, with the recipe\'s betas (steps 8-9)',
  'adam-update': "Adam's update of one parameter, as TensorFlow.js ops (steps 8-9)",
  'recipe-beyond': "step 9's recipe: step 8 with narrower convolutions and label smoothing (step 9)",
  'label-smoothing': 'the training loss with label smoothing (step 9)',
};

export interface SourceRegion {
  /** Relative to the project root, with forward slashes: 'lib/model.ts'. */
  file: string;
  /** 1-based line numbers of the first and last line of code, the marker comments excluded. */
  startLine: number;
  endLine: number;
  /** The lines between the markers, their common indentation removed. */
  code: string;
}

const MARKER = /^\s*\/\/ #(region|endregion) ([\w-]+)\s*$/;

/** The library's source folder under `root`; a clear error when it is missing (an installed package without lib/). */
function libDir(root: string): string {
  const dir = join(root, 'lib');
  if (!existsSync(dir)) {
    throw new UsageError(`the library's TypeScript source was not found in ${dir}: showCode reads lib/*.ts, so run it in a checkout of mnist-speedrun`);
  }
  return dir;
}

function dedent(lines: readonly string[]): string {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join('\n');
}

/**
 * Every region marked in lib/*.ts under `root`. Throws on a marker without its partner, a region
 * inside another or a name marked twice: each would show the wrong code.
 */
export function findRegions(root: string = projectRoot()): Map<string, SourceRegion> {
  const dir = libDir(root);
  const regions = new Map<string, SourceRegion>();
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    const file = `lib/${name}`;
    const lines = readFileSync(join(dir, name), 'utf8').split(/\r?\n/);
    let open: { name: string; line: number } | null = null;
    lines.forEach((text, index) => {
      const marker = MARKER.exec(text);
      if (marker === null) return;
      const [, kind, region] = marker as unknown as [string, 'region' | 'endregion', string];
      if (kind === 'region') {
        if (open !== null) throw new Error(`${file}:${index + 1}: region ${region} starts inside region ${open.name} (line ${open.line})`);
        if (regions.has(region)) throw new Error(`${file}:${index + 1}: region ${region} is already marked in ${regions.get(region)!.file}`);
        open = { name: region, line: index + 1 };
      } else {
        if (open === null || open.name !== region) throw new Error(`${file}:${index + 1}: #endregion ${region} without its #region ${region}`);
        const body = lines.slice(open.line, index);
        regions.set(region, { file, startLine: open.line + 1, endLine: index, code: dedent(body) });
        open = null;
      }
    });
    if (open !== null) {
      const unclosed = open as { name: string; line: number };
      throw new Error(`${file}:${unclosed.line}: region ${unclosed.name} has no #endregion ${unclosed.name}`);
    }
  }
  return regions;
}

/** The code of region `name`, read from lib/ under the project root (or `root`). */
export function sourceRegion(name: string, root: string = projectRoot()): SourceRegion {
  const regions = findRegions(root);
  const region = regions.get(name);
  if (region === undefined) {
    const known = [...regions.keys()].sort();
    throw new UsageError(`no code region named '${name}' in ${join(root, 'lib')}${didYouMean(name, known)}: the regions are ${known.join(', ')}`);
  }
  return region;
}

/** 'lib/model.ts, lines 296-304' */
export function regionCaption(region: SourceRegion): string {
  return `${region.file}, lines ${region.startLine}-${region.endLine}`;
}

/** The region as markdown: its caption, then a ```ts block. */
export function regionMarkdown(region: SourceRegion): string {
  return `\`${regionCaption(region)}\`\n\n\`\`\`ts\n${region.code}\n\`\`\``;
}

/**
 * Shows each named region of the library, in order: as highlighted markdown in a notebook, as
 * plain text (caption, then the code) anywhere else. Unknown names fail before anything is shown.
 */
export function showCode(...names: string[]): void {
  const regions = names.map((name) => sourceRegion(name));
  for (const region of regions) {
    if (isNotebookKernel()) showMarkdown(regionMarkdown(region));
    else console.log(`${regionCaption(region)}:\n${region.code}\n`);
  }
}
