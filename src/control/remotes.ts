/**
 * Remotes: engines on other hosts, reached over the user's own `ssh` (src/control/ssh.ts). Each
 * is a name, an `ssh://[user@]host[:port]/absolute/path/to/repo` URL and, optionally, the command
 * that runs ao-console there. They live in the user's config,
 * `$XDG_CONFIG_HOME/ao-console/remotes.json` (else `~/.config/ao-console/remotes.json`; the file
 * is 0600 in a 0700 directory, written whole through a temp file and a rename). No key or password
 * is ever stored: ssh's agent, config and known_hosts do that.
 */
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../lanes/config/atomicFile.js';

/** A remote as the user added it. */
export interface Remote {
  name: string;
  /** as given (normalised): ssh://[user@]host[:port]/path */
  url: string;
  /** the program that runs ao-console on the host (default `ao-console`, found on the host's PATH) */
  command?: string;
}

/** What a remote's URL says. */
export interface SshTarget {
  host: string;
  user?: string;
  port?: number;
  /** absolute path of the repo on the host, decoded (spaces and all) */
  path: string;
}

/** A bad remote name, URL or config file: the message says which and what to do. */
export class RemoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteError';
  }
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Refuses a name that could not be a group label, a file-safe word or an option's value. */
export function checkRemoteName(name: string): string {
  if (!NAME_RE.test(name))
    throw new RemoteError(
      `remote name ${JSON.stringify(name)} is not valid: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  return name;
}

/**
 * Parses `ssh://[user@]host[:port]/absolute/path`. The path is absolute, as in git's ssh URLs; it
 * may hold spaces, raw or percent-encoded (`%20`). Hosts and users that ssh would read as an
 * option (a leading '-') are refused.
 */
export function parseSshUrl(url: string): SshTarget {
  const bad = (why: string) =>
    new RemoteError(
      `remote URL ${JSON.stringify(url)} is not valid: ${why} (expected ssh://[user@]host[:port]/path/to/repo)`,
    );
  const m = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]/]+\]|[^:/]+)(?::([^/]*))?(\/.*)?$/.exec(url);
  if (!m) throw bad(url.startsWith('ssh://') ? 'no host' : 'it does not start with ssh://');
  const [, rawUser, rawHost, rawPort, rawPath] = m;
  let user: string | undefined;
  let decodedPath: string;
  try {
    user = rawUser === undefined ? undefined : decodeURIComponent(rawUser);
    decodedPath = rawPath === undefined ? '' : decodeURIComponent(rawPath);
  } catch {
    throw bad('a % escape is broken');
  }
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (!host || host.startsWith('-') || /[\s\x00-\x1f]/.test(host)) throw bad(`host ${JSON.stringify(host)}`);
  if (user !== undefined && (!user || user.startsWith('-') || /[\s\x00-\x1f]/.test(user)))
    throw bad(`user ${JSON.stringify(user)}`);
  let port: number | undefined;
  if (rawPort !== undefined && rawPort !== '') {
    port = Number(rawPort);
    if (!/^\d+$/.test(rawPort) || port < 1 || port > 65535) throw bad(`port ${JSON.stringify(rawPort)}`);
  }
  if (!decodedPath || decodedPath === '/') throw bad('no repo path');
  if (/[\x00\n\r]/.test(decodedPath)) throw bad('the path holds a control character');
  const clean = path.posix.normalize(decodedPath);
  return { host, user, port, path: clean.length > 1 ? clean.replace(/\/$/, '') : clean };
}

/** Where remotes.json is for this environment. */
export function remotesFile(env: NodeJS.ProcessEnv = process.env): string {
  // XDG: a relative XDG_CONFIG_HOME is invalid and ignored.
  const xdg = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined;
  return path.join(xdg ?? path.join(env.HOME || os.homedir(), '.config'), 'ao-console', 'remotes.json');
}

const fileSchema = z.strictObject({
  version: z.literal(1),
  remotes: z.array(
    z.strictObject({
      name: z.string(),
      url: z.string(),
      command: z.string().min(1).optional(),
    }),
  ),
});

/** Every remote of the user, in the order added; a missing file is none, a damaged one an error naming it. */
export function readRemotes(env: NodeJS.ProcessEnv = process.env): Remote[] {
  const file = remotesFile(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new RemoteError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RemoteError(`${file} is not valid JSON (${(err as Error).message}): fix or remove it`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new RemoteError(
      `${file}: ${first?.path.join('.') || 'file'}: ${first?.message ?? 'unexpected shape'}: fix or remove it`,
    );
  }
  for (const [i, r] of parsed.data.remotes.entries()) {
    try {
      checkRemoteName(r.name);
      parseSshUrl(r.url);
    } catch (err) {
      throw new RemoteError(`${file}: remotes.${i}: ${(err as Error).message}`);
    }
  }
  return parsed.data.remotes;
}

function writeRemotes(remotes: Remote[], env: NodeJS.ProcessEnv): void {
  const file = remotesFile(env);
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  writeFileAtomic(file, `${JSON.stringify({ version: 1, remotes }, null, 2)}\n`);
}

/** The remote named `name`; an unknown name is an error listing the known ones. */
export function findRemote(name: string, env: NodeJS.ProcessEnv = process.env): Remote {
  const remotes = readRemotes(env);
  const found = remotes.find((r) => r.name === name);
  if (!found)
    throw new RemoteError(
      `no remote named ${JSON.stringify(name)} (${remotes.length ? `known: ${remotes.map((r) => r.name).join(', ')}` : 'none added yet'}); add one with \`ao-console remote add ${name} ssh://host/path/to/repo\``,
    );
  return found;
}

/** Adds a remote (name and URL checked); a name in use is refused. */
export function addRemote(remote: Remote, env: NodeJS.ProcessEnv = process.env): Remote {
  checkRemoteName(remote.name);
  parseSshUrl(remote.url);
  if (remote.command !== undefined && !remote.command.trim()) throw new RemoteError('--command is empty');
  const remotes = readRemotes(env);
  if (remotes.some((r) => r.name === remote.name))
    throw new RemoteError(
      `a remote named ${remote.name} exists already; remove it first (\`ao-console remote remove ${remote.name}\`)`,
    );
  const added: Remote = { name: remote.name, url: remote.url, ...(remote.command ? { command: remote.command } : {}) };
  writeRemotes([...remotes, added], env);
  return added;
}

/** Removes a remote; an unknown name is an error. Its engine and lanes on the host are left alone. */
export function removeRemote(name: string, env: NodeJS.ProcessEnv = process.env): void {
  findRemote(name, env);
  writeRemotes(
    readRemotes(env).filter((r) => r.name !== name),
    env,
  );
}
