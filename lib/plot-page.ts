/**
 * The page that shows live charts in a browser: plotly.js from the serving machine, the charts as
 * they were when the page was served, and a poll that redraws them whenever the server has newer
 * ones. A reload just asks again; the page keeps the last charts when the server goes away.
 */
import type { PlotlyFigure } from './plot';
import { PLOTLY_SCRIPT_PATH } from './plotly-library';

/** One chart on the page; `id` keeps its place across updates. */
export interface Chart {
  id: string;
  figure: PlotlyFigure;
}

/** Everything the page shows; `version` grows with every change. */
export interface Board {
  title: string;
  status: string;
  version: number;
  charts: Chart[];
}

/** Where the page polls for the current board. */
export const BOARD_PATH = '/board.json';
const POLL_MS = 1000;

/** The board as JSON that is safe inside a <script> element ('<' escaped, so "</script>" cannot end it). */
export function boardJson(board: Board): string {
  return JSON.stringify(board).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// Runs in the browser: draws the board, then polls for newer ones.
const PAGE_SCRIPT = `
var shown = { version: -1 };
function draw(board) {
  document.getElementById('status').textContent = board.status;
  var root = document.getElementById('charts');
  board.charts.forEach(function (chart) {
    var div = document.getElementById('chart-' + chart.id);
    if (!div) {
      div = document.createElement('div');
      div.id = 'chart-' + chart.id;
      div.className = 'chart';
      root.appendChild(div);
    }
    Plotly.react(div, chart.figure.data, chart.figure.layout, { responsive: true });
  });
  shown = board;
}
function poll() {
  fetch('${BOARD_PATH}', { cache: 'no-store' })
    .then(function (response) { return response.json(); })
    .then(function (board) { if (board.version !== shown.version) draw(board); setTimeout(poll, ${POLL_MS}); })
    .catch(function () { document.getElementById('status').textContent = shown.status + ' (server stopped: these are the last charts it sent)'; });
}
draw(JSON.parse(document.getElementById('board').textContent));
setTimeout(poll, ${POLL_MS});
`;

/** The whole page, with the board inline so it draws without a second request. */
export function plotPageHtml(board: Board): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(board.title)}</title>`,
    '<style>body{font-family:sans-serif;margin:1em 2em}#status{color:#555}.chart{width:100%;height:440px;margin-bottom:1em}</style>',
    `<script src="${PLOTLY_SCRIPT_PATH}"></script>`,
    '</head><body>',
    `<h1>${escapeHtml(board.title)}</h1>`,
    '<p id="status"></p>',
    '<div id="charts"></div>',
    `<script type="application/json" id="board">${boardJson(board)}</script>`,
    `<script>${PAGE_SCRIPT}</script>`,
    '</body></html>',
  ].join('\n');
}
