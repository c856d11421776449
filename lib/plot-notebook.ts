/**
 * Showing figures inside a tslab notebook. The PNG is what gets saved into the notebook file and
 * what every reader sees (GitHub, nbviewer, an untrusted JupyterLab); the optional plotly figure is
 * for live sessions only: an untrusted notebook drops HTML scripts, so it never replaces the PNG.
 */
import * as tslab from 'tslab';
import { renderPng, type PlotlyFigure, type RenderOptions, type TopLevelSpec } from './plot';
import { plotlyHtml } from './plotly-fragment';
import { startPlotServer, type PlotServer } from './plot-server';
import { PLOTLY_SCRIPT_PATH } from './plotly-library';

export function showPng(png: Uint8Array): void {
  tslab.display.png(png);
}

// One server per kernel, started on the first interactive figure; it never keeps the kernel alive.
let kernelServer: Promise<PlotServer> | null = null;

/** The URL of plotly.js as served by this kernel on 127.0.0.1, for the notebook page to load. */
export async function kernelPlotlyUrl(): Promise<string> {
  kernelServer ??= startPlotServer({ unref: true });
  const server = await kernelServer;
  return new URL(PLOTLY_SCRIPT_PATH, server.url).href;
}

/**
 * Shows a figure inline as a PNG, always; with `interactive`, also as a live plotly figure below it
 * (shown only while the notebook is trusted, i.e. in the session that ran the cell).
 */
export async function showFigure(
  spec: TopLevelSpec,
  options: RenderOptions & { interactive?: PlotlyFigure } = {},
): Promise<void> {
  showPng(await renderPng(spec, options));
  if (options.interactive !== undefined) tslab.display.html(plotlyHtml(options.interactive, await kernelPlotlyUrl()));
}
