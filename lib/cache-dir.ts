/**
 * Where mnist-speedrun keeps files it can rebuild: the downloaded MNIST archives and the
 * preprocessed one-file dataset. Follows the XDG base-directory rule, so a user can move it with
 * XDG_CACHE_HOME, and every function takes the environment as an argument so tests never touch
 * the real cache.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { readSetting, XDG_CACHE_HOME, type Env } from './environment';

export type { Env };
export const CACHE_DIR_NAME = 'mnist-speedrun';

/**
 * `$XDG_CACHE_HOME/mnist-speedrun`, else `~/.cache/mnist-speedrun`. The XDG spec says a relative
 * XDG_CACHE_HOME is invalid and must be ignored, so it is.
 */
export function userCacheDir(env: Env = process.env, homeDir: string = os.homedir()): string {
  const base = readSetting(XDG_CACHE_HOME, env) ?? path.join(homeDir, '.cache');
  return path.join(base, CACHE_DIR_NAME);
}
