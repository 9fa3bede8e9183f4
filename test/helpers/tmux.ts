/**
 * A small tmux driver for end-to-end tests: runs a command in a detached tmux session on a
 * private server (`tmux -L <unique socket>`, no user config), so a test never touches the
 * user's tmux server and tests can run in parallel. Keys are sent by the keymap's key names
 * (`enter`, `ctrl-]`, `shift-tab`, `j` ...), the screen is read with `capture-pane`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface TmuxOptions {
  /** the program and its arguments, run directly (no shell) */
  command: readonly string[];
  cwd: string;
  /** added to a minimal environment (PATH, HOME, USER, LANG=C.UTF-8, TMPDIR) */
  env?: Record<string, string>;
  cols?: number;
  rows?: number;
  /** extra lines for the server's config file (e.g. `set -g set-clipboard on`) */
  config?: readonly string[];
}

export interface PaneStatus {
  dead: boolean;
  /** the exit status once dead */
  status: number | null;
  /** the signal that killed it, if one did */
  signal: number | null;
}

const TMUX_KEYS: Record<string, string> = {
  enter: 'Enter',
  escape: 'Escape',
  tab: 'Tab',
  'shift-tab': 'BTab',
  up: 'Up',
  down: 'Down',
  left: 'Left',
  right: 'Right',
  pageup: 'PPage',
  pagedown: 'NPage',
  home: 'Home',
  end: 'End',
  backspace: 'BSpace',
  space: 'Space',
};

/**
 * How tmux names one key of the keymap: `enter` -> `Enter`, `ctrl-]` -> `C-]`; a single
 * character is returned as is (send it literally).
 */
export function tmuxKeyName(key: string): { name: string; literal: boolean } {
  if (TMUX_KEYS[key]) return { name: TMUX_KEYS[key], literal: false };
  const ctrl = /^ctrl-(.)$/.exec(key);
  if (ctrl) return { name: `C-${ctrl[1]}`, literal: false };
  if (Array.from(key).length === 1) return { name: key, literal: true };
  throw new Error(`no tmux name for the key ${JSON.stringify(key)}`);
}

/** The minimal environment of the tmux server and the programs it runs. */
function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  for (const k of ['PATH', 'HOME', 'USER', 'TMPDIR']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...extra };
}

export class TmuxSession {
  readonly target: string;
  private killed = false;

  constructor(
    readonly socket: string,
    private readonly configDir: string,
    private readonly env: Record<string, string>,
  ) {
    this.target = `${socket}:0.0`;
  }

  /** Runs `tmux -L <socket> args...` and returns its stdout. */
  async tmux(...args: string[]): Promise<string> {
    const { stdout } = await execFileP('tmux', ['-L', this.socket, ...args], {
      env: this.env,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  }

  /** Sends keys by their keymap names, one after another (`'enter'`, `'ctrl-]'`, `'y'`). */
  async press(...keys: string[]): Promise<void> {
    for (const key of keys) {
      const { name, literal } = tmuxKeyName(key);
      await this.tmux('send-keys', '-t', this.target, ...(literal ? ['-l', name] : [name]));
    }
  }

  /** Types text literally (no key names are interpreted). */
  async type(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', this.target, '-l', text);
  }

  /** The visible screen, one line per row (trailing spaces trimmed); `escapes` keeps SGR attributes. */
  /**
   * The visible screen; `history` adds the scrollback above it (tmux moves a dead pane's last
   * screen there when it writes its "Pane is dead" line).
   */
  async capture(opts: { escapes?: boolean; history?: boolean } = {}): Promise<string> {
    return this.tmux(
      'capture-pane',
      '-p',
      '-t',
      this.target,
      ...(opts.escapes ? ['-e'] : []),
      ...(opts.history ? ['-S', '-'] : []),
    );
  }

  /**
   * Polls the screen until `match` holds; returns that screen. On timeout the error shows
   * the last screen, so a failing test says what the user would have seen.
   */
  async waitFor(
    match: RegExp | string | ((screen: string) => boolean),
    what: string,
    timeoutMs = 30_000,
  ): Promise<string> {
    const test =
      typeof match === 'function'
        ? match
        : typeof match === 'string'
          ? (s: string) => s.includes(match)
          : (s: string) => match.test(s);
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = await this.capture();
      if (test(screen)) return screen;
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Resizes the window (the pane follows) to cols x rows. */
  async resize(cols: number, rows: number): Promise<void> {
    await this.tmux('resize-window', '-t', this.target.replace(/\.\d+$/, ''), '-x', String(cols), '-y', String(rows));
  }

  /** The pane's size as tmux sees it. */
  async size(): Promise<{ cols: number; rows: number }> {
    const [cols, rows] = (await this.tmux('display', '-p', '-t', this.target, '#{pane_width} #{pane_height}'))
      .trim()
      .split(' ')
      .map(Number);
    return { cols, rows };
  }

  /** A format of the pane, e.g. `#{pane_title}`. */
  async display(format: string, target = this.target): Promise<string> {
    return (await this.tmux('display', '-p', '-t', target, format)).replace(/\n$/, '');
  }

  /** Whether the program has exited (the server keeps dead panes: remain-on-exit), and its status. */
  async paneStatus(): Promise<PaneStatus> {
    const [dead, status, signal] = (await this.display('#{pane_dead} #{pane_dead_status} #{pane_dead_signal}')).split(
      ' ',
    );
    return {
      dead: dead === '1',
      status: dead === '1' && status !== '' ? Number(status) : null,
      signal: dead === '1' && signal ? Number(signal) : null,
    };
  }

  /**
   * Waits until the program exited; returns its exit status. The program runs under a tiny sh
   * that prints the status when it ends: tmux's own pane_dead_status is not filled in reliably
   * for a process that ends with worker threads still running.
   */
  async waitForExit(timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // the wrapper's line, or tmux's own note on the dead pane (the wrapper exits with the status)
      const m = /ao-test-exit=(\d+)|Pane is dead \(status (\d+)/.exec(await this.capture());
      if (m) return Number(m[1] ?? m[2]);
      if (Date.now() > deadline)
        throw new Error(
          `the program in ${this.target} did not exit in ${timeoutMs} ms; the screen:\n${await this.capture()}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Kills the private server (and with it the program, if still running). Safe to call twice. */
  async kill(): Promise<void> {
    if (this.killed) return;
    this.killed = true;
    const socketPath = (await this.tmux('display', '-p', '#{socket_path}').catch(() => '')).trim();
    await this.tmux('kill-server').catch(() => undefined);
    if (socketPath) await rm(socketPath, { force: true }); // tmux leaves the socket file behind
    await rm(this.configDir, { recursive: true, force: true });
  }
}

/** Starts `opts.command` in a new detached session on a private tmux server. */
export async function startTmux(opts: TmuxOptions): Promise<TmuxSession> {
  const socket = `ao-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  const configDir = await mkdtemp(path.join(tmpdir(), 'ao-tmux-'));
  const config = path.join(configDir, 'tmux.conf');
  await writeFile(
    config,
    [
      // keep the pane after the program exits, to read its exit status
      'set -g remain-on-exit on',
      'set -g default-terminal tmux-256color',
      'set -g history-limit 2000',
      'set -g status off',
      ...(opts.config ?? []),
      '',
    ].join('\n'),
  );
  const env = baseEnv(opts.env);
  const session = new TmuxSession(socket, configDir, env);
  const args = [
    '-L',
    socket,
    '-f',
    config,
    'new-session',
    '-d',
    '-s',
    socket,
    '-x',
    String(opts.cols ?? 120),
    '-y',
    String(opts.rows ?? 36),
    '-c',
    opts.cwd,
  ];
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
  // argv only: the command is passed to a constant sh script as its arguments, never joined into a string
  const wrapped = ['sh', '-c', '"$@"; s=$?; echo "ao-test-exit=$s"; exit $s', 'sh', ...opts.command];
  await execFileP('tmux', [...args, ...wrapped], { env, encoding: 'utf8' });
  return session;
}
