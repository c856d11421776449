/**
 * plotly.js as installed with the project (the `plotly.js-dist-min` package): charts are drawn
 * with this copy, served from this machine, so they work offline and never reach for a CDN.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { projectRoot } from './project-root';

/** The package that ships the one-file plotly.js bundle. */
export const PLOTLY_PACKAGE = 'plotly.js-dist-min';

/** Where the plot servers serve plotly.js from. */
export const PLOTLY_SCRIPT_PATH = '/plotly.min.js';

/** The file of the minified plotly.js bundle in node_modules; a one-line error naming the fix if missing. */
export function plotlyLibraryFile(): string {
  // resolved from the project root, not import.meta: tslab compiles lib files to CommonJS
  const require = createRequire(join(projectRoot(), 'package.json'));
  try {
    return require.resolve(`${PLOTLY_PACKAGE}/plotly.min.js`);
  } catch {
    throw new Error(`${PLOTLY_PACKAGE} is not installed (interactive charts need it): run npm ci`);
  }
}
