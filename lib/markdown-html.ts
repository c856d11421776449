/**
 * The small markdown the library writes for notebooks (paragraphs, ```ts fences, `code`,
 * **bold**, *italic*) as HTML. Notebook outputs carry both forms: the classic Notebook drops a
 * markdown output of an untrusted notebook (every notebook freshly cloned is untrusted), but shows
 * sanitised HTML; JupyterLab and GitHub read either.
 */

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One paragraph's inline markup: code spans first (their content is literal), then bold, then italic. */
function inlineHtml(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => {
      if (part.length >= 2 && part.startsWith('`') && part.endsWith('`')) return `<code>${escapeHtml(part.slice(1, -1))}</code>`;
      return escapeHtml(part)
        .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
        .replace(/\*([^*]+)\*/g, '<em>$1</em>');
    })
    .join('');
}

/** `markdown` (the subset above) as HTML: fenced blocks as <pre><code>, the rest as paragraphs. */
export function markdownHtml(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split('\n');
  let paragraph: string[] = [];
  const flush = (): void => {
    if (paragraph.length > 0) out.push(`<p>${inlineHtml(paragraph.join(' '))}</p>`);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^```(\w*)\s*$/.exec(line);
    if (fence !== null) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) code.push(lines[i]!);
      const language = fence[1] ? ` class="language-${fence[1]}"` : '';
      out.push(`<pre><code${language}>${escapeHtml(code.join('\n'))}</code></pre>`);
    } else if (line.trim() === '') {
      flush();
    } else {
      paragraph.push(line.trim());
    }
  }
  flush();
  return out.join('\n');
}
