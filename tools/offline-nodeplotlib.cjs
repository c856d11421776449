/**
 * Install step (`postinstall`): makes the installed nodeplotlib work offline and through reloads.
 *
 * nodeplotlib 1.1.2 serves a page that loads plotly.js 1.58.4 from cdn.plot.ly and its fonts from
 * fonts.gstatic.com, and shuts its server down when the last page disconnects (a reload kills it).
 * This step, plain Node and idempotent:
 *   - copies plotly.min.js (the project's plotly.js-dist-min) into nodeplotlib's web folder and
 *     points the page's script tag at it; removes the web-font rules (system fonts instead);
 *   - keeps the server up when pages go away (it stops with the process), and gives every page that
 *     connects all current charts (not only the ones that change after it connected);
 *   - quiets the web framework's start-up log (it wrote to stdout) and binds to 127.0.0.1 only.
 * `node tools/offline-nodeplotlib.cjs` runs it by hand; lib/nodeplotlib-charts.ts refuses to start
 * nodeplotlib when it did not run.
 */
'use strict';
const { copyFileSync, existsSync, readFileSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** Written into each rewritten file, so a second run sees the work done. */
const MARKER = 'mnist-speedrun: offline';
const PLOTLY_FILE = 'plotly.min.js';

/** index.html with plotly.js from the same folder and no web fonts. */
function offlineIndexHtml(html) {
  let out = html
    .replace(/<link rel="preconnect" href="https:\/\/fonts\.gstatic\.com">\s*/g, '')
    .replace(/@font-face\{[^}]*\}/g, '')
    .replace(/src="https:\/\/cdn\.plot\.ly\/plotly-[^"]*\.js"/g, `src="${PLOTLY_FILE}"`);
  // the toolbar's icon was a ligature of the icon font: without the font it would show as a word
  if (!out.includes(MARKER)) out = out.replace('</head>', `<style>/* ${MARKER} */.material-icons{display:none}</style></head>`);
  return out;
}

/** The web addresses a page would still load from elsewhere (script or link sources, CSS url()). */
function remoteUrls(text) {
  const found = [];
  for (const pattern of [/(?:src|href)="(https?:\/\/[^"]*)"/g, /url\((https?:\/\/[^)]*)\)/g]) {
    for (const match of text.matchAll(pattern)) found.push(match[1]);
  }
  return found;
}

const SHUTDOWN_ON_LAST_PAGE = /if \(this\.clientMap\.size === 0\) \{\s*this\.bridgeService\.shutdown\$\.next\(null\);\s*\}/;
const SHARED_STREAM = ', (0, operators_1.share)()';

/** plots.gateway.js: no shutdown when the last page goes, and each page gets every chart. */
function offlineGateway(js) {
  if (js.includes(MARKER)) return js;
  if (!SHUTDOWN_ON_LAST_PAGE.test(js) || !js.includes(SHARED_STREAM)) throw new Error('plots.gateway.js is not the one of nodeplotlib 1.1.2');
  return `// ${MARKER} (tools/offline-nodeplotlib.cjs)\n${js
    .replace(SHUTDOWN_ON_LAST_PAGE, '/* the server stays up when pages go away: it stops with the process */')
    .replace(SHARED_STREAM, '')}`;
}

const CREATE = 'core_1.NestFactory.create(server_module_1.ServerModule)';
const LISTEN = 'yield app.listen(port);';

/** nodeplotlib.js: no framework log on stdout (errors still on stderr), 127.0.0.1 only. */
function offlineEntry(js) {
  if (js.includes(MARKER)) return js;
  if (!js.includes(CREATE) || !js.includes(LISTEN)) throw new Error('nodeplotlib.js is not the one of nodeplotlib 1.1.2');
  return `// ${MARKER} (tools/offline-nodeplotlib.cjs)\n${js
    .replace(CREATE, "core_1.NestFactory.create(server_module_1.ServerModule, { logger: ['error'] })")
    .replace(LISTEN, "yield app.listen(port, '127.0.0.1');")}`;
}

function rewrite(file, transform) {
  const before = readFileSync(file, 'utf8');
  const after = transform(before);
  if (after !== before) writeFileSync(file, after);
}

/** Makes nodeplotlib's web folder self-contained: plotly.js beside index.html, no remote URL left. */
function makeWebFolderOffline(webDir, plotlyFile) {
  copyFileSync(plotlyFile, join(webDir, PLOTLY_FILE));
  rewrite(join(webDir, 'index.html'), offlineIndexHtml);
  const left = remoteUrls(readFileSync(join(webDir, 'index.html'), 'utf8'));
  if (left.length > 0) throw new Error(`index.html still loads ${left[0]}`);
}

/** The files of an installed nodeplotlib that this step rewrites. */
function nodeplotlibFiles(packageDir) {
  const lib = join(packageDir, 'src', 'lib');
  return { web: join(lib, 'server', 'web'), gateway: join(lib, 'server', 'plots', 'plots.gateway.js'), entry: join(lib, 'nodeplotlib.js') };
}

function makeNodeplotlibOffline(packageDir, plotlyFile) {
  const files = nodeplotlibFiles(packageDir);
  makeWebFolderOffline(files.web, plotlyFile);
  rewrite(files.gateway, offlineGateway);
  rewrite(files.entry, offlineEntry);
}

/** What is missing for nodeplotlib to work offline ([] when this step ran). */
function offlineProblems(packageDir) {
  const files = nodeplotlibFiles(packageDir);
  const problems = [];
  if (!existsSync(join(files.web, PLOTLY_FILE))) problems.push(`no ${PLOTLY_FILE} in its web folder`);
  const html = existsSync(join(files.web, 'index.html')) ? readFileSync(join(files.web, 'index.html'), 'utf8') : '';
  if (remoteUrls(html).length > 0 || !html.includes(MARKER)) problems.push('its page loads from CDNs');
  for (const file of [files.gateway, files.entry]) {
    if (!existsSync(file) || !readFileSync(file, 'utf8').includes(MARKER)) problems.push(`${file} is not rewritten`);
  }
  return problems;
}

module.exports = { MARKER, offlineIndexHtml, offlineGateway, offlineEntry, remoteUrls, makeWebFolderOffline, makeNodeplotlibOffline, offlineProblems };

if (require.main === module) {
  // resolved from this project, wherever npm placed the packages (hoisted or nested)
  const root = join(__dirname, '..');
  const resolveFrom = (request) => require.resolve(request, { paths: [root] });
  let packageDir;
  try {
    packageDir = dirname(resolveFrom('nodeplotlib/package.json'));
  } catch {
    process.stderr.write('offline-nodeplotlib: nodeplotlib is not installed; nothing to do\n');
    process.exit(0);
  }
  try {
    makeNodeplotlibOffline(packageDir, resolveFrom('plotly.js-dist-min/plotly.min.js'));
  } catch (error) {
    process.stderr.write(`offline-nodeplotlib: ${error instanceof Error ? error.message : String(error)} (${packageDir}): install nodeplotlib 1.1.2 (npm ci)\n`);
    process.exit(1);
  }
}
