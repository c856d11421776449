/**
 * Loads a page in headless Chromium with every host name unresolvable (no CDN, no network; the
 * 127.0.0.1 servers of the tests still answer) and returns the DOM after scripts ran.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const chromiumMissing = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (set CHROMIUM)`;

export async function offlineDom(url: string, budgetMs = 5000): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  try {
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
          `--user-data-dir=${profile}`,
          // every name fails to resolve: a script from a CDN cannot load; the tests' servers answer
          // on 127.0.0.1
          '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
          `--virtual-time-budget=${budgetMs}`,
          '--dump-dom',
          url,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let dom = '';
      let errors = '';
      child.stdout.on('data', (chunk: Buffer) => (dom += chunk));
      child.stderr.on('data', (chunk: Buffer) => (errors += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(dom);
        else reject(new Error(`chromium exited with ${code}: ${errors.slice(-2000)}`));
      });
    });
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** How many plotly traces of `type` the DOM shows (plotly draws each as <g class="trace TYPE ...">). */
export function tracesDrawn(dom: string, type = 'scatter'): number {
  return dom.match(new RegExp(`class="trace ${type}\\b`, 'g'))?.length ?? 0;
}
