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

/** Headless, sandbox-free, quiet, with a profile of its own and every name but 127.0.0.1 unresolvable. */
function offlineFlags(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    `--user-data-dir=${profile}`,
    // every name fails to resolve: a script from a CDN cannot load; the tests' servers answer on 127.0.0.1
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  ];
}

export async function offlineDom(url: string, budgetMs = 5000): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  try {
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(
        CHROMIUM,
        [...offlineFlags(profile), `--virtual-time-budget=${budgetMs}`, '--dump-dom', url],
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

/**
 * Loads `url` in headless Chromium, offline as offlineDom does, and returns the DOM once `ready`
 * accepts it (or, after `timeoutMs`, the last one seen). For pages that keep a request open (a
 * socket.io long poll), where a virtual time budget never runs out: the DOM is read over the
 * DevTools protocol on a pipe, in real time.
 */
export async function liveDom(url: string, ready: (dom: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  const child = spawn(
    CHROMIUM,
    [...offlineFlags(profile), '--remote-debugging-pipe', 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  child.stderr?.resume();
  const toBrowser = child.stdio[3] as NodeJS.WritableStream;
  const fromBrowser = child.stdio[4] as NodeJS.ReadableStream;
  const pending = new Map<number, (message: { result?: Record<string, unknown>; error?: { message: string } }) => void>();
  let buffered = '';
  fromBrowser.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let end: number;
    while ((end = buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffered.slice(0, end)) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      buffered = buffered.slice(end + 1);
      if (message.id !== undefined) pending.get(message.id)?.(message);
    }
  });
  let nextId = 0;
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, (message) => (message.error ? reject(new Error(`${method}: ${message.error.message}`)) : resolve(message.result ?? {})));
      toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  try {
    const { targetId } = (await send('Target.createTarget', { url })) as { targetId: string };
    const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const deadline = Date.now() + timeoutMs;
    let dom = '';
    for (;;) {
      const evaluated = (await send('Runtime.evaluate', { expression: 'document.documentElement.outerHTML', returnByValue: true }, sessionId)) as {
        result: { value?: string };
      };
      dom = evaluated.result.value ?? '';
      if (ready(dom) || Date.now() > deadline) return dom;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    await rm(profile, { recursive: true, force: true });
  }
}
