/**
 * Showing figures inside a tslab notebook. The PNG is what gets saved into the notebook file and
 * what every reader sees (GitHub, nbviewer, an untrusted JupyterLab); the optional plotly figure is
 * for live sessions only: an untrusted notebook drops HTML scripts, so it never replaces the PNG.
 */
import { randomUUID } from 'node:crypto';
import * as tslab from 'tslab';
import { renderPng, type PlotlyFigure, type RenderOptions, type TopLevelSpec } from './plot';

/** plotly.js is loaded from its CDN by the live notebook page, not saved into the notebook file. */
const PLOTLY_CDN = 'https://cdn.plot.ly/plotly-2.35.2.min.js';

export function showPng(png: Uint8Array): void {
  tslab.display.png(png);
}

/** An HTML fragment that draws `figure` with plotly.js in the page that shows it. */
export function plotlyHtml(figure: PlotlyFigure, heightPx = 420): string {
  const id = `plot-${randomUUID()}`;
  // '<' escaped so that a label such as "</script>" cannot end the script early
  const json = JSON.stringify({ data: figure.data, layout: figure.layout }).replace(/</g, '\\u003c');
  return [
    `<div id="${id}" style="width:100%;height:${heightPx}px"></div>`,
    '<script>',
    '(function () {',
    `  var figure = ${json};`,
    `  function draw() { Plotly.newPlot('${id}', figure.data, figure.layout, { responsive: true }); }`,
    '  if (window.Plotly) { draw(); return; }',
    `  var script = document.createElement('script'); script.src = '${PLOTLY_CDN}'; script.onload = draw;`,
    '  document.head.appendChild(script);',
    '})();',
    '</script>',
  ].join('\n');
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
  if (options.interactive !== undefined) tslab.display.html(plotlyHtml(options.interactive));
}
