/**
 * A local web server for plotly.js from node_modules, on 127.0.0.1 only: the notebook kernel
 * starts one so that its interactive figures (lib/plotly-fragment.ts) draw without a CDN. It keeps
 * no state; it stops when its owner closes it.
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PLOTLY_SCRIPT_PATH, plotlyLibraryFile } from './plotly-library';

export interface PlotServer {
  /** e.g. http://127.0.0.1:41234/ */
  readonly url: string;
  close(): Promise<void>;
}

export interface PlotServerOptions {
  /** 0 (default): any free port. */
  port?: number;
  /** Let the process exit while the server is up (notebook kernels); default false. */
  unref?: boolean;
}

export async function startPlotServer(options: PlotServerOptions = {}): Promise<PlotServer> {
  const plotlyFile = plotlyLibraryFile();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'GET only\n');
    if (path !== PLOTLY_SCRIPT_PATH) return send(response, 404, 'not found\n');
    response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' });
    if (request.method === 'HEAD') return response.end();
    createReadStream(plotlyFile).on('error', () => response.destroy()).pipe(response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  if (options.unref) server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
  response.end(body);
}
