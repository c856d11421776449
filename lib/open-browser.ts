/**
 * Opens a URL in the user's browser, best effort: the system's opener (xdg-open, open, start), or
 * the command in BROWSER, as other tools do; BROWSER=none opens nothing. Never fails: a machine
 * without a browser just has the URL printed by the caller.
 */
import { spawn } from 'node:child_process';

/** The command that would open `url`, or null when BROWSER=none. */
export function browserCommand(
  url: string,
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
): string[] | null {
  const chosen = env.BROWSER?.trim();
  if (chosen === 'none') return null;
  if (chosen) return [chosen, url];
  if (platform === 'darwin') return ['open', url];
  if (platform === 'win32') return ['cmd', '/c', 'start', '""', url];
  return ['xdg-open', url];
}

/** Starts the browser on `url` without waiting for it; says whether it tried. */
export function openBrowser(url: string, env: Record<string, string | undefined> = process.env): boolean {
  const command = browserCommand(url, env);
  if (command === null) return false;
  const [program, ...args] = command as [string, ...string[]];
  try {
    const child = spawn(program, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
