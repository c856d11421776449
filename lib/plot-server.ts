/**
 * A local web server for live charts: serves the chart page, the current charts as JSON, and
 * plotly.js from node_modules, on 127.0.0.1 only. It keeps no per-client state, so a reload, a
 * second tab or a closed one changes nothing; it stops when its owner closes it.
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PlotlyFigure } from './plot';
import { BOARD_PATH, boardJson, plotPageHtml, type Board } from './plot-page';
import { PLOTLY_SCRIPT_PATH, plotlyLibraryFile } from './plotly-library';

export interface PlotServer {
  /** e.g. http://127.0.0.1:41234/ */
  readonly url: string;
  /** Adds the chart `id`, or replaces it in place. */
  show(id: string, figure: PlotlyFigure): void;
  /** The line above the charts (what is running, or that it finished). */
  setStatus(status: string): void;
  close(): Promise<void>;
}

export interface PlotServerOptions {
  title: string;
  status?: string;
  /** 0 (default): any free port. */
  port?: number;
  /** Let the process exit while the server is up (notebook kernels); default false. */
  unref?: boolean;
}

export async function startPlotServer(options: PlotServerOptions): Promise<PlotServer> {
  const plotlyFile = plotlyLibraryFile();
  const board: Board = { title: options.title, status: options.status ?? '', version: 0, charts: [] };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'GET only\n');
    if (path === '/' || path === '/index.html') return send(response, 200, 'text/html; charset=utf-8', plotPageHtml(board));
    if (path === BOARD_PATH) return send(response, 200, 'application/json', boardJson(board));
    if (path === PLOTLY_SCRIPT_PATH) {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' });
      if (request.method === 'HEAD') return response.end();
      return void createReadStream(plotlyFile).on('error', () => response.destroy()).pipe(response);
    }
    send(response, 404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  if (options.unref) server.unref();
  const { port } = server.address() as AddressInfo;

  const changed = (): void => {
    board.version++;
  };
  return {
    url: `http://127.0.0.1:${port}/`,
    show(id, figure) {
      const index = board.charts.findIndex((chart) => chart.id === id);
      if (index >= 0) board.charts[index] = { id, figure };
      else board.charts.push({ id, figure });
      changed();
    },
    setStatus(status) {
      board.status = status;
      changed();
    },
    close: () =>
      new Promise<void>((resolve) => {
        // polling pages hold keep-alive connections: end them rather than wait for them
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}
