import assert from 'node:assert/strict';
import { test } from 'node:test';
import { markdownHtml } from '../lib/markdown-html';

test('paragraphs, bold, italic and code spans become HTML; code spans keep their stars', () => {
  assert.equal(
    markdownHtml('In this run step 8 took **6.84 s**, *one epoch*.\nSecond line `a * b` here.\n\nNext <paragraph> & more.'),
    '<p>In this run step 8 took <strong>6.84 s</strong>, <em>one epoch</em>. Second line <code>a * b</code> here.</p>\n<p>Next &lt;paragraph&gt; &amp; more.</p>',
  );
});

test('a fenced block keeps its lines, escaped, with its language', () => {
  const md = '`lib/nets.ts, lines 1-3`\n\n```ts\nconst a = b < c && d;\n  // **not bold**\n```';
  assert.equal(
    markdownHtml(md),
    '<p><code>lib/nets.ts, lines 1-3</code></p>\n<pre><code class="language-ts">const a = b &lt; c &amp;&amp; d;\n  // **not bold**</code></pre>',
  );
});
