/**
 * A self-contained HTML fragment that draws one plotly figure where it is shown (a notebook's
 * output), loading plotly.js from a given URL only when the page does not have it yet.
 */
import { randomUUID } from 'node:crypto';
import type { PlotlyFigure } from './plot';

/**
 * An HTML fragment that draws `figure` with plotly.js in the page that shows it, loading plotly.js
 * from `plotlyUrl` unless the page has it already. The fragment saved into a notebook stays small:
 * the library is served by the running kernel (see `kernelPlotlyUrl`), never fetched from a CDN.
 */
export function plotlyHtml(figure: PlotlyFigure, plotlyUrl: string, heightPx = 420): string {
  const id = `plot-${randomUUID()}`;
  // '<' escaped so that a label such as "</script>" cannot end the script early
  const json = JSON.stringify({ data: figure.data, layout: figure.layout }).replace(/</g, '\\u003c');
  const source = JSON.stringify(plotlyUrl).replace(/</g, '\\u003c');
  return [
    `<div id="${id}" style="width:100%;height:${heightPx}px"></div>`,
    '<script>',
    '(function () {',
    `  var figure = ${json};`,
    `  function draw() { Plotly.newPlot('${id}', figure.data, figure.layout, { responsive: true }); }`,
    '  if (window.Plotly) { draw(); return; }',
    `  var script = document.createElement('script'); script.src = ${source}; script.onload = draw;`,
    `  script.onerror = function () { document.getElementById('${id}').style.display = 'none'; };`,
    '  document.head.appendChild(script);',
    '})();',
    '</script>',
  ].join('\n');
}
