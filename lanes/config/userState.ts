/**
 * The user's own ao-console state, outside every repo (the trust file, the engine registry):
 * `$XDG_STATE_HOME/ao-console`, else `~/.local/state/ao-console`. One rule, one place, so every
 * per-user file agrees on where it lives.
 */
import os from 'node:os';
import path from 'node:path';

/** `<XDG state home>/ao-console`; a relative XDG_STATE_HOME is invalid (XDG spec) and ignored. */
export function userStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : undefined;
  const base = xdg ?? path.join(env.HOME || os.homedir(), '.local', 'state');
  return path.join(base, 'ao-console');
}
