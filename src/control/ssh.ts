/**
 * Engines on other hosts, over the user's own `ssh` (found on PATH, so their wrapper, config,
 * agent and known_hosts apply; ao-console stores no key or password and opens no port).
 *
 * Two uses:
 * - the dashboard's link: `ssh -T host <ao-console> --repo PATH engine --stdio`, whose stdin and
 *   stdout carry the control protocol exactly as the unix socket does (the remote side starts the
 *   engine when none runs; the engine outlives the link). `connectRemote` says hello over it, so a
 *   remote of another protocol version is refused with the usual clear error.
 * - `--remote NAME` on a one-shot command: the same command line runs there (`runRemote`), its
 *   output and exit code come back as they are.
 *
 * ssh hands the remote command to the remote user's shell as one string, so the command line is
 * built from an argv with every word single-quoted (as git does for its ssh transport): a repo
 * path with spaces, quotes or `$()` reaches ao-console as one literal argument.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { Duplex } from 'node:stream';
import { AO_CONSOLE_VERSION } from '../../lanes/engine/version.js';
import { PROTOCOL_VERSION } from '../../lanes/control/protocol.js';
import { EngineConnection, ProtocolMismatchError } from './engineConnection.js';
import type { MemberSpec } from './multiSupervisor.js';
import { parseSshUrl, RemoteError, type Remote } from './remotes.js';

/** How long connecting (ssh, the remote engine's start, hello) may take. */
export const REMOTE_CONNECT_TIMEOUT_MS = 30_000;
/** The hidden global options a forwarded command carries, checked by the remote (src/main.ts). */
export const CLIENT_PROTOCOL_OPTION = '--client-protocol';
export const CLIENT_VERSION_OPTION = '--client-version';

/** One word for a POSIX shell: single-quoted, a quote inside as '\'' . */
export function shQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The remote's command line for ao-console `args` in the remote's repo: every word quoted. */
export function remoteCommandLine(remote: Remote, args: readonly string[]): string {
  const target = parseSshUrl(remote.url);
  return [remote.command ?? 'ao-console', '--repo', target.path, ...args].map(shQuote).join(' ');
}

export interface SshOptions {
  /** ask for a terminal on the host (`-t`) for an interactive command; else `-T` */
  tty?: boolean;
  /** never prompt (`BatchMode=yes`): for a link in the background of a full-screen dashboard */
  batch?: boolean;
}

/** ssh's argv (without `ssh`) running ao-console `args` on the remote. */
export function sshArgv(remote: Remote, args: readonly string[], opts: SshOptions = {}): string[] {
  const target = parseSshUrl(remote.url);
  return [
    opts.tty ? '-t' : '-T',
    // A link nobody types into notices a dead peer in ~30 s instead of at the next TCP timeout.
    '-o',
    'ServerAliveInterval=10',
    '-o',
    'ServerAliveCountMax=3',
    ...(opts.batch ? ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15'] : []),
    ...(target.port ? ['-p', String(target.port)] : []),
    ...(target.user ? ['-l', target.user] : []),
    '--',
    target.host,
    remoteCommandLine(remote, args),
  ];
}

/** The last `max` characters a child wrote to stderr. */
export function stderrTail(child: ChildProcess, max = 4000): () => string {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    tail = (tail + s).slice(-max);
  });
  return () => tail.trim();
}

/** The ssh child's stdout and stdin as one duplex stream; destroying it ends the child. */
class ChildLink extends Duplex {
  constructor(private readonly child: ChildProcess) {
    super();
    child.stdout?.on('data', (b: Buffer) => this.push(b));
    child.stdout?.on('end', () => this.push(null));
    child.stdin?.on('error', () => {}); // a dead link: 'close' of the child tells
    child.once('close', () => this.destroy());
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.child.stdin || this.child.stdin.destroyed) return cb();
    this.child.stdin.write(chunk, () => cb());
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    cb(err);
  }
}

/** Why an ssh child ended: ssh's (or the remote's) last words when it said any, else how it ended. */
function exitReason(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const said = stderr.split('\n').filter(Boolean).slice(-2).join(' / ');
  if (signal !== null) return `ssh was ended by ${signal}${said ? `: ${said}` : ''}`;
  if (said) return said;
  return code === 255 ? 'ssh could not connect (exit 255)' : `ssh ended (exit ${code ?? '?'})`;
}

/** ssh could not be started at all: none on PATH, or another spawn error. */
function spawnError(remote: Remote, err: NodeJS.ErrnoException): RemoteError {
  return new RemoteError(
    err.code === 'ENOENT'
      ? `cannot reach remote ${remote.name}: no \`ssh\` on PATH (install OpenSSH's client)`
      : `cannot reach remote ${remote.name}: ssh: ${err.message}`,
  );
}

export interface RemoteLink {
  conn: EngineConnection;
  /** the ssh process (tests end it to drop the link) */
  pid: number | undefined;
}

/**
 * A connection to the remote's engine through `ssh ... engine --stdio`, hello said. Rejects with
 * RemoteError saying what ssh or the remote said, or ProtocolMismatchError naming both versions.
 */
export async function connectRemote(remote: Remote, client = 'dashboard'): Promise<RemoteLink> {
  const argv = sshArgv(remote, ['engine', '--stdio'], { batch: true });
  const child = spawn('ssh', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr = stderrTail(child);
  let ended: string | null = null;
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (err: NodeJS.ErrnoException) => reject(spawnError(remote, err))),
  );
  child.once('exit', (code, signal) => {
    ended = `the link to ${remote.name} dropped: ${exitReason(code, signal, stderr())}`;
  });
  const link = new ChildLink(child);
  const conn = new EngineConnection(link, `${remote.name}:${parseSshUrl(remote.url).path}`, () => ended);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RemoteError(
            `cannot reach remote ${remote.name} (${remote.url}): no answer within ${REMOTE_CONNECT_TIMEOUT_MS / 1000} s${stderr() ? `: ${stderr()}` : ''}`,
          ),
        ),
      REMOTE_CONNECT_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([conn.hello(client), spawnFailed, timeout]);
  } catch (err) {
    conn.close();
    if (err instanceof ProtocolMismatchError || err instanceof RemoteError) throw err;
    // the link ended before hello: say what ssh or the remote said
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('close', r)));
    const why =
      child.exitCode !== null || child.signalCode !== null
        ? exitReason(child.exitCode, child.signalCode, stderr())
        : null;
    throw new RemoteError(
      `cannot reach remote ${remote.name}: ${why ?? (err instanceof Error ? err.message : String(err))}`,
    );
  } finally {
    clearTimeout(timer);
  }
  return { conn, pid: child.pid };
}

export interface RunRemoteOptions {
  /** where the remote command's stdout goes (default: this process's) */
  stdout?: 'inherit' | NodeJS.WritableStream;
}

/**
 * Runs ao-console `args` on the remote (in its repo) and resolves with its exit code; its output
 * and errors come through as they are. A terminal on both ends gets a terminal on the host.
 * The forwarded line carries this client's protocol and version: the remote refuses another.
 */
export function runRemote(remote: Remote, args: readonly string[], opts: RunRemoteOptions = {}): Promise<number> {
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY && (opts.stdout ?? 'inherit') === 'inherit');
  const full = [CLIENT_PROTOCOL_OPTION, String(PROTOCOL_VERSION), CLIENT_VERSION_OPTION, AO_CONSOLE_VERSION, ...args];
  const piped = opts.stdout && opts.stdout !== 'inherit' ? opts.stdout : null;
  const child = spawn('ssh', sshArgv(remote, full, { tty }), {
    stdio: ['inherit', piped ? 'pipe' : 'inherit', 'inherit'],
  });
  if (piped) child.stdout?.pipe(piped, { end: false });
  return new Promise<number>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => reject(spawnError(remote, err)));
    child.once('close', (code, signal) => {
      if (code === 255)
        return reject(
          new RemoteError(`cannot reach remote ${remote.name} (${remote.url}): ssh exited 255 (see above)`),
        );
      resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 1) : 1));
    });
  });
}

/** A remote as a member of a multi-engine dashboard: its group is named after it, its link is ssh. */
export function remoteMember(remote: Remote, key = remote.name): MemberSpec {
  const target = parseSshUrl(remote.url);
  return {
    key,
    title: `${target.user ? `${target.user}@` : ''}${target.host}:${target.path}`,
    remote: true,
    connect: async () => (await connectRemote(remote, 'dashboard')).conn,
  };
}
