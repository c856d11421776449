/**
 * Live charts in the browser from scripts and the command line, drawn by nodeplotlib: each chart is
 * one `plot(data, layout)` whose data is a stream, so replacing a figure redraws it on every open
 * page. The install step (tools/offline-nodeplotlib.cjs, run by `npm ci`) makes nodeplotlib's page
 * load plotly.js from node_modules, never a CDN, and keeps its server up through reloads; without
 * it nothing starts. The server lives as long as the process.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { BehaviorSubject } from 'rxjs';
import { openBrowser } from './open-browser';
import type { PlotlyFigure } from './plot';
import { projectRoot } from './project-root';

/** One chart on the page; `show` replaces its figure (data and layout) in place. */
export interface LiveChart {
  show(figure: PlotlyFigure): void;
}

export interface ChartPage {
  /** e.g. http://127.0.0.1:41234/ */
  readonly url: string;
  /** One per figure given, in the same order. */
  readonly charts: LiveChart[];
}

export interface BrowserPlotOptions {
  /** Open the browser on the page (default true; BROWSER=none also prevents it). */
  open?: boolean;
  env?: Record<string, string | undefined>;
}

type Layout = PlotlyFigure['layout'];
type Plot = (data: BehaviorSubject<PlotlyFigure['data']>, layout: Layout) => void;

const LOG_PREFIX = '[Nodeplotlib]';
const RUNNING = /Server running at http:\/\/localhost:(\d+)/;

/** Why the installed nodeplotlib would load a CDN or stop on a reload, as one line with the fix; null when set up. */
export function nodeplotlibSetupProblem(root: string = projectRoot()): string | null {
  const require = createRequire(join(root, 'package.json'));
  let packageDir: string;
  try {
    packageDir = join(require.resolve('nodeplotlib/package.json'), '..');
  } catch {
    return 'nodeplotlib is not installed (live charts need it): run npm ci';
  }
  const step = require(join(root, 'tools', 'offline-nodeplotlib.cjs')) as { offlineProblems(dir: string): string[] };
  const problems = step.offlineProblems(packageDir);
  if (problems.length === 0) return null;
  return `nodeplotlib was not set up to work offline (${problems[0]}; the install step did not run): run npm rebuild mnist-speedrun (as a dependency) or npm ci (in a checkout)`;
}

let opened = false;

/**
 * Serves `figures` on nodeplotlib's page (once per process: nodeplotlib 1.1.2 adds every earlier
 * chart again with each later `plot` call, so all charts are made here, at once, and then replaced
 * in place) and opens it in the browser.
 */
export async function openChartPage(figures: readonly PlotlyFigure[], options: BrowserPlotOptions = {}): Promise<ChartPage> {
  if (opened) throw new Error('openChartPage: one chart page per process (replace figures with show)');
  if (figures.length === 0) throw new RangeError('openChartPage: at least one figure');
  const problem = nodeplotlibSetupProblem();
  if (problem !== null) throw new Error(problem);
  opened = true;
  // a port in NODEPLOTLIB_PORT also stops nodeplotlib from opening a browser itself (BROWSER is ours)
  process.env.NODEPLOTLIB_PORT ??= '0';
  const port = nodeplotlibPort();
  // nodeplotlib starts its server without handing back the promise: its failure (a port in use)
  // would surface as an unhandled rejection and a stack
  let onFailure: (reason: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    onFailure = (reason) => {
      const cause = reason instanceof Error ? reason.message : String(reason);
      reject(new Error(`nodeplotlib could not start its server (${cause}): set NODEPLOTLIB_PORT to a free port, or leave it unset`));
    };
  });
  process.once('unhandledRejection', onFailure);
  const { plot } = (await import('nodeplotlib')) as unknown as { plot: Plot };
  // all in this task, before nodeplotlib's server (started by the first) reads them
  const charts = figures.map((figure) => liveChart(plot, figure));
  let listening: number;
  try {
    listening = await Promise.race([port, failed]);
  } finally {
    process.off('unhandledRejection', onFailure);
  }
  const url = `http://127.0.0.1:${listening}/`;
  if (options.open !== false) openBrowser(url, options.env);
  return { url, charts };
}

/** A chart whose figure can be replaced: the data streams to the pages, the layout is read with it. */
function liveChart(plot: Plot, figure: PlotlyFigure): LiveChart {
  const layout: Layout = { ...figure.layout };
  const data = new BehaviorSubject(figure.data);
  plot(data, layout);
  return {
    show(next) {
      // nodeplotlib keeps the layout object it was given and sends it with each data update
      for (const key of Object.keys(layout)) delete (layout as Record<string, unknown>)[key];
      Object.assign(layout, next.layout);
      data.next(next.data);
    },
  };
}

/**
 * nodeplotlib reports on console.log (stdout), which must stay free for --json: its lines are
 * kept off the console, and the one that says where the server listens gives the port.
 */
function nodeplotlibPort(): Promise<number> {
  return new Promise((resolve) => {
    const log = console.log.bind(console);
    console.log = (...args: unknown[]): void => {
      if (!(typeof args[0] === 'string' && args[0].startsWith(LOG_PREFIX))) return log(...args);
      const running = RUNNING.exec(args.map(String).join(' '));
      if (running !== null) resolve(Number(running[1]));
    };
  });
}
