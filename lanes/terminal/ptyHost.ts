/**
 * One agent process on a pseudo-terminal, with an exact record of its output.
 *
 * node-pty loses the last few KB of output when the child exits (node-pty #72, #726; measured
 * here: 4–14 KB lost in about one run of ten under CPU load). The loss happens when the pty's
 * slave side closes while the master still has unread data. So the agent never runs as the
 * pty's only process: a constant sh shim (argv only, never a shell string built from data)
 * runs it, and after it exits prints a sentinel carrying a per-spawn nonce and the exit
 * status, then keeps the slave open until it is told to go. The pty is one ordered stream, so
 * when the sentinel is read every byte the agent wrote before it has been read too. The
 * sentinel and anything after it never reach onData.
 *
 * The shim handles INT, QUIT and TERM with `:` (a handler, not an ignore: handlers are reset
 * on exec, so the agent keeps default dispositions and Ctrl-C or a SIGTERM to the process
 * group still reaches it), and so it survives them to report the agent's status. SIGHUP
 * (the console died and the master closed) and SIGKILL end it; then node-pty's own exit
 * report is used, after the socket closed, with whatever output it delivered.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import * as nodePty from 'node-pty';

export interface PtySpawnOptions {
  command: string;
  args: string[];
  cwd: string;
  /** the complete environment of the agent (see buildAgentEnv); PATH here resolves `command` */
  env: Record<string, string>;
  cols: number;
  rows: number;
}

/**
 * How the agent ended. The shim learns the status from sh, which reports death by signal N
 * as 128+N: an exit status above 128 is read as signal N (an agent calling exit(130) is
 * indistinguishable from one killed by SIGINT).
 */
export interface PtyExit {
  code: number | null;
  signal: number | null;
}

export class CommandNotFoundError extends Error {
  constructor(
    readonly command: string,
    detail: string,
  ) {
    super(`cannot run agent command "${command}": ${detail}`);
    this.name = 'CommandNotFoundError';
  }
}

/**
 * The constant shim script. $0 is a label; $1 the nonce; the rest is the agent's argv.
 * The shim's own stderr goes to /dev/null (the agent gets the tty as fd 2), so sh's job
 * messages ("Terminated") never land in the recording. After the sentinel it reads (and
 * drops) lines until EOF, so typing into a finished lane does not end it early; the host
 * kills it once the sentinel was read.
 */
const SHIM =
  'n=$1; shift; trap : INT QUIT TERM; exec 3>&2 2>/dev/null; ' +
  '/bin/sh -c \'exec "$@" 2>&3 3>&-\' ao-agent "$@"; c=$?; ' +
  'printf \'\\033]7770;ao-exit;%s;%s\\007\' "$n" "$c"; ' +
  'while IFS= read -r _; do :; done; exit "$c"';
const SENTINEL_HEAD = '\x1b]7770;ao-exit;';
const BEL = 0x07;
/** longest status text accepted between the nonce and BEL */
const MAX_STATUS_DIGITS = 5;

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds `command` the way execvp would with the given PATH; throws CommandNotFoundError. */
export function resolveCommand(command: string, env: Record<string, string>, cwd: string): string {
  if (command === '') throw new CommandNotFoundError(command, 'empty command');
  if (command.includes('/')) {
    const file = path.resolve(cwd, command);
    if (isExecutableFile(file)) return file;
    throw new CommandNotFoundError(command, `${file} is not an executable file`);
  }
  const searchPath = env.PATH ?? '';
  for (const dir of searchPath.split(':')) {
    const file = path.resolve(cwd, dir === '' ? '.' : dir, command);
    if (isExecutableFile(file)) return file;
  }
  throw new CommandNotFoundError(command, `not found on PATH (${searchPath || 'PATH is empty'})`);
}

/** Splits a chunk stream at the shim's sentinel, holding back only a possible sentinel prefix. */
export class SentinelScanner {
  private readonly head: Buffer;
  private held: Buffer = Buffer.alloc(0);
  /** set once the whole sentinel was read */
  status: number | null = null;

  constructor(nonce: string) {
    this.head = Buffer.from(`${SENTINEL_HEAD}${nonce};`, 'latin1');
  }

  get done(): boolean {
    return this.status !== null;
  }

  /** Feeds one chunk; returns the bytes that are agent output for sure (maybe empty). */
  push(chunk: Buffer): Buffer {
    if (this.done) return Buffer.alloc(0);
    const data = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    const at = data.indexOf(this.head);
    if (at >= 0) {
      const statusStart = at + this.head.length;
      const bel = data.indexOf(BEL, statusStart);
      if (bel < 0) {
        if (data.length - statusStart <= MAX_STATUS_DIGITS) {
          this.held = data.subarray(at);
          return data.subarray(0, at);
        }
      } else {
        const text = data.subarray(statusStart, bel).toString('latin1');
        if (/^\d{1,5}$/.test(text)) {
          this.status = Number(text);
          return data.subarray(0, at);
        }
      }
      // Something shaped like our head but not a sentinel: it is output. Keep scanning after it.
      const rest = this.push(Buffer.from(data.subarray(at + 1)));
      return Buffer.concat([data.subarray(0, at + 1), rest]);
    }
    const keep = this.partialHeadAtEnd(data);
    if (keep > 0) this.held = Buffer.from(data.subarray(data.length - keep));
    return keep > 0 ? data.subarray(0, data.length - keep) : data;
  }

  /** Bytes held back as a possible sentinel start; output after all when the stream ends. */
  flush(): Buffer {
    const out = this.held;
    this.held = Buffer.alloc(0);
    return out;
  }

  /** Length of the longest suffix of `data` that is a proper prefix of the head. */
  private partialHeadAtEnd(data: Buffer): number {
    const max = Math.min(this.head.length - 1, data.length);
    for (let len = max; len > 0; len--) {
      const start = data.length - len;
      if (data[start] !== 0x1b) continue;
      if (data.subarray(start).equals(this.head.subarray(0, len))) return len;
    }
    return 0;
  }
}

function statusToExit(status: number): PtyExit {
  if (status > 128 && status < 128 + 65) return { code: null, signal: status - 128 };
  return { code: status, signal: null };
}

export class PtyHost {
  readonly pid: number;
  private readonly pty: nodePty.IPty;
  private readonly scanner: SentinelScanner;
  private readonly dataListeners = new Set<(chunk: Buffer) => void>();
  private readonly exitListeners = new Set<(e: PtyExit) => void>();
  private exitInfo: PtyExit | null = null;
  /** node-pty reaped the shim: its pid (and group id) may belong to someone else now */
  private reaped = false;

  private constructor(pty: nodePty.IPty, nonce: string) {
    this.pty = pty;
    this.pid = pty.pid;
    this.scanner = new SentinelScanner(nonce);
    pty.onData((raw) => this.handleData(raw as unknown as Buffer));
    pty.onExit(({ exitCode, signal }) => {
      this.reaped = true;
      if (this.exitInfo) return;
      this.emitData(this.scanner.flush());
      this.finish(signal ? { code: null, signal } : { code: exitCode, signal: null });
    });
  }

  /** Spawns `command` (resolved on env.PATH first) through the shim. */
  static spawn(opts: PtySpawnOptions): PtyHost {
    if (!existsDir(opts.cwd)) throw new Error(`cannot run agent: working directory ${opts.cwd} does not exist`);
    const file = resolveCommand(opts.command, opts.env, opts.cwd);
    const nonce = randomBytes(12).toString('hex');
    const pty = nodePty.spawn('/bin/sh', ['-c', SHIM, 'ao-shim', nonce, file, ...opts.args], {
      name: opts.env.TERM || 'xterm-256color',
      cols: opts.cols,
      rows: opts.rows,
      cwd: opts.cwd,
      env: opts.env,
      encoding: null,
    });
    return new PtyHost(pty, nonce);
  }

  /** true once the agent's exit was reported */
  get exited(): boolean {
    return this.exitInfo !== null;
  }

  /** Output chunks, byte-exact. Returns the unsubscribe function. */
  onData(cb: (chunk: Buffer) => void): () => void {
    this.dataListeners.add(cb);
    return () => this.dataListeners.delete(cb);
  }

  /** Fires once, after every output byte went to onData. Late subscribers are called at once. */
  onExit(cb: (e: PtyExit) => void): () => void {
    if (this.exitInfo) {
      const info = this.exitInfo;
      queueMicrotask(() => cb(info));
      return () => {};
    }
    this.exitListeners.add(cb);
    return () => this.exitListeners.delete(cb);
  }

  write(data: string | Buffer): void {
    if (this.exitInfo) return;
    this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (this.exitInfo) return;
    this.pty.resize(cols, rows);
  }

  /** Stops reading the pty; the agent blocks on write once the kernel buffer is full. */
  pause(): void {
    this.pty.pause();
  }

  resume(): void {
    this.pty.resume();
  }

  /**
   * Signals the pty's process group (the shim and the agent, unless it left the group).
   * Does nothing once the shim was reaped; the reaper finds what is left by its token.
   */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.reaped) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        process.kill(this.pid, signal);
      } catch {
        /* already gone */
      }
    }
  }

  private handleData(raw: Buffer): void {
    if (this.exitInfo) return;
    this.emitData(this.scanner.push(raw));
    if (this.scanner.status !== null) {
      this.finish(statusToExit(this.scanner.status));
      // The shim only waits to be told to go; it has nothing left to say.
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  private emitData(chunk: Buffer): void {
    if (chunk.length === 0) return;
    for (const cb of this.dataListeners) cb(chunk);
  }

  private finish(info: PtyExit): void {
    this.exitInfo = info;
    for (const cb of this.exitListeners) cb(info);
    this.exitListeners.clear();
  }
}

function existsDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
