import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequire } from 'node:module';
import { isNotebookKernel, show, showMarkdown, tableHtml, textTable } from '../lib/table-notebook';

test('a table becomes an HTML table, numbers right-aligned, text escaped', () => {
  const html = tableHtml({ columns: ['step', 'change'], values: [[1, 'a <b> & c'], [8, 'final']] }, 'ladder');
  assert.equal(
    html,
    '<table><caption style="text-align:left;font-weight:bold">ladder</caption><thead><tr>' +
      '<th style="text-align:right">step</th><th style="text-align:left">change</th></tr></thead><tbody>\n' +
      '<tr><td style="text-align:right">1</td><td style="text-align:left">a &lt;b&gt; &amp; c</td></tr>\n' +
      '<tr><td style="text-align:right">8</td><td style="text-align:left">final</td></tr>\n</tbody></table>',
  );
});

test('a column with any text in it is aligned left, and empty cells stay empty', () => {
  const html = tableHtml({ columns: ['x'], values: [[1], ['n/a'], [null]] });
  assert.ok(!html.includes('text-align:right'));
  assert.match(html, /<td style="text-align:left"><\/td>/);
});

test('a danfojs DataFrame is shown with its columns and rows, without its index', async () => {
  const dfd = await import('danfojs-node');
  const frame = new dfd.DataFrame([{ step: 1, change: 'baseline' }, { step: 8, change: 'final' }]);
  const html = tableHtml(frame);
  assert.match(html, /<th style="text-align:right">step<\/th><th style="text-align:left">change<\/th>/);
  assert.match(html, /<td style="text-align:right">8<\/td><td style="text-align:left">final<\/td>/);
  assert.equal(html.match(/<tr>/g)!.length, 3);
});

test('outside a tslab kernel: not a kernel, and show prints an aligned text table instead of calling tslab', (t) => {
  assert.equal(isNotebookKernel(), false);
  const printed: string[] = [];
  t.mock.method(console, 'log', (text: string) => printed.push(text));
  show({ columns: ['step', 'change', 'time'], values: [[1, 'baseline', '27 min 1 s'], [10, 'x', null]] }, 'ladder');
  assert.deepEqual(printed, [
    ['ladder', 'step  change    time', '----  --------  ----------', '   1  baseline  27 min 1 s', '  10  x'].join('\n'),
  ]);
});

test('a text table pads every column to its widest cell, numbers to the right', () => {
  assert.equal(
    textTable({ columns: ['a', 'value'], values: [['long text', 3.5], ['b', 12]] }),
    ['a          value', '---------  -----', 'long text    3.5', 'b             12'].join('\n'),
  );
});

test('inside a tslab kernel (its display hook set, as the kernel sets it for each cell) show displays HTML and prints nothing', (t) => {
  // the module tslab's own display writes through: the kernel sets this hook when it runs a cell
  const jupyter = createRequire(import.meta.url)('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
  const shown: Array<Record<string, string>> = [];
  jupyter.lastWriteDisplayData = (message: { data: Record<string, string> }) => shown.push(message.data);
  t.after(() => {
    jupyter.lastWriteDisplayData = null;
  });
  const printed: string[] = [];
  t.mock.method(console, 'log', (text: string) => printed.push(text));
  assert.equal(isNotebookKernel(), true);
  show({ columns: ['step'], values: [[8]] }, 'ladder');
  showMarkdown('**fast**');
  assert.deepEqual(printed, []);
  assert.deepEqual(shown, [
    { 'text/html': tableHtml({ columns: ['step'], values: [[8]] }, 'ladder') },
    { 'text/markdown': '**fast**', 'text/html': '<p><strong>fast</strong></p>' },
  ]);
});
