/**
 * Figures from scripts: nodeplotlib serves plotly figures to the browser on a local port. It is
 * imported on first use, because it starts a web server stack that notebooks and tests never need.
 */
import type { PlotlyFigure } from './plot';

/** Opens `figure` in the browser; the script keeps running until the page is closed. */
export async function plotInBrowser(figure: PlotlyFigure): Promise<void> {
  const { plot } = await import('nodeplotlib');
  plot(figure.data, figure.layout);
}
