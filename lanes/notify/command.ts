/**
 * Runs a notification command (the repo's `notify.command` hook, or notify-send): argv only (no
 * shell), in its own session and process group (`detached: true`), optional text on stdin,
 * stdout ignored, the tail of stderr kept for the log. After `timeoutMs` whatever is left of the
 * group is killed (SIGKILL): a hook that hangs, or leaves something behind, is gone by then. It
 * never throws: a command that cannot start, fails or hangs is an outcome to log.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export interface CommandOutcome {
  /** exit code of the group's leader; null when it was killed or never started */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** it was killed at the timeout */
  timedOut: boolean;
  /** it could not be started (e.g. ENOENT) */
  error?: string;
  /** the end of its stderr (at most 1000 characters) */
  stderr: string;
}

export interface RunCommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** written to its stdin, which is then closed; undefined: stdin is /dev/null */
  input?: string;
  timeoutMs: number;
}

/** A command under way: its result, and a way to kill its group now. */
export interface RunningCommand {
  readonly done: Promise<CommandOutcome>;
  kill(): void;
}

const STDERR_KEEP = 1000;

/** Signals a whole process group; false when nobody is left in it (or it is not ours). */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function runCommand(argv: readonly string[], opts: RunCommandOptions): RunningCommand {
  let stderr = '';
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let pgid: number | undefined;
  let groupDone = false;
  const killGroup = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pgid !== undefined && !groupDone) signalGroup(pgid, 'SIGKILL');
    groupDone = true;
  };
  const done = new Promise<CommandOutcome>((resolve) => {
    let child;
    try {
      child = spawn(argv[0] ?? '', argv.slice(1), {
        cwd: opts.cwd,
        env: opts.env,
        detached: true,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
      });
    } catch (err) {
      resolve({ code: null, signal: null, timedOut: false, error: (err as Error).message, stderr: '' });
      return;
    }
    pgid = child.pid;
    let settled = false;
    const settle = (outcome: CommandOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    child.on('error', (err) => {
      killGroup();
      settle({ code: null, signal: null, timedOut: false, error: err.message, stderr });
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_KEEP);
    });
    child.stderr?.on('error', () => {});
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => {}); // a hook that does not read its stdin (EPIPE) is fine
      child.stdin.end(opts.input);
    }
    if (pgid !== undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        if (!settled) timedOut = true;
        killGroup();
      }, opts.timeoutMs);
    }
    child.on('exit', (code, signal) => {
      child.stderr?.destroy();
      // Something the leader left in its group gets the rest of the time, then the same end.
      if (timer && (pgid === undefined || !signalGroup(pgid, 0))) {
        clearTimeout(timer);
        timer = undefined;
        groupDone = true;
      }
      settle({ code, signal, timedOut, stderr: stderr.trim() });
    });
  });
  return { done, kill: killGroup };
}

/** The path of `program` on `PATH` (an executable file), or null. */
export function findOnPath(program: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, program);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** One line describing how a command ended, for a log. */
export function describeOutcome(o: CommandOutcome, timeoutMs: number): string {
  if (o.error !== undefined) return `could not start: ${o.error}`;
  if (o.timedOut) return `killed after ${Math.round(timeoutMs / 1000)} s (no exit)`;
  const how = o.signal ? `killed by ${o.signal}` : `exit ${o.code}`;
  return o.stderr ? `${how}: ${o.stderr.replace(/\s+/g, ' ').slice(-300)}` : how;
}
