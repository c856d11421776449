/**
 * Live charts from scripts and the command line: a local plot server (lib/plot-server.ts) with the
 * figures on it, opened in the user's browser. The page redraws as figures are replaced, survives
 * reloads, and needs no network: plotly.js comes from node_modules.
 */
import { openBrowser } from './open-browser';
import type { PlotlyFigure } from './plot';
import { startPlotServer, type PlotServer } from './plot-server';

export interface BrowserPlotOptions {
  title?: string;
  status?: string;
  /** Open the browser on the page (default true; BROWSER=none also prevents it). */
  open?: boolean;
  env?: Record<string, string | undefined>;
}

/**
 * Shows `figures` (chart ids '1', '2', ...) on a new plot server and opens it in the browser. The
 * server keeps the process alive until `close()`; `show(id, figure)` replaces or adds charts.
 */
export async function plotInBrowser(figures: readonly PlotlyFigure[], options: BrowserPlotOptions = {}): Promise<PlotServer> {
  const server = await startPlotServer({ title: options.title ?? 'mnist-speedrun', status: options.status });
  figures.forEach((figure, index) => server.show(String(index + 1), figure));
  if (options.open !== false) openBrowser(server.url, options.env);
  return server;
}
