/**
 * Runs a command gate in the lane's worktree.
 *
 * Why node:child_process and not execa: execa's promise settles only when the child's stdout and
 * stderr have ended, so a gate that leaves `sleep 4000 &` behind holding them open hangs it
 * (DESIGN.md, "Facts measured"). Here the gate runs in its own session and process group
 * (`detached: true` is setsid), the verdict is settled on the leader's 'exit' plus a short drain,
 * then whatever is left of the group is killed (SIGTERM, SIGKILL after a grace) and the pipes are
 * destroyed. A timeout or a cancel kills the whole group the same way. A process that calls
 * setsid itself leaves the group and is out of reach; gates are trusted repo config.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { CommandGateConfig } from '../config/repoConfig.js';
import type { GateVerdict } from '../supervisor/api.js';
import { DEFAULT_OUTPUT_LIMIT, HeadTailBuffer } from './outputBuffer.js';
import { makeVerdict, type GateContext } from './verdict.js';

export interface CommandGateOptions {
  /** bytes of output kept, half from the head and half from the tail (default 64 KiB) */
  outputLimit?: number;
  /** between SIGTERM and SIGKILL of the process group (default 2000 ms) */
  graceMs?: number;
  /** how long output is still read after the gate's process exited (default 250 ms) */
  drainMs?: number;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Signals a whole process group; false when nobody is left in it (or it is not ours). */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is empty; EPERM: not ours to signal
  }
}

/**
 * Whether any live process is left in the group. kill(-pgid, 0) also counts zombies, and an
 * orphaned zombie can wait seconds for PID 1 to reap it (measured here: about 2 s), so on Linux
 * the group's members are read from /proc and zombies are left out.
 */
async function groupAlive(pgid: number): Promise<boolean> {
  if (process.platform !== 'linux') return signalGroup(pgid, 0);
  let entries: string[];
  try {
    entries = (await readdir('/proc')).filter((e) => /^\d+$/.test(e));
  } catch {
    return signalGroup(pgid, 0);
  }
  const states = await Promise.all(
    entries.map(async (pid) => {
      try {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        // after "pid (comm) ": state ppid pgrp ...
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(pgrp) === pgid && state !== 'Z' && state !== 'X';
      } catch {
        return false; // gone while we looked
      }
    }),
  );
  return states.includes(true);
}

/** SIGTERM to the group, then SIGKILL to whatever is still alive in it after `graceMs`. */
export async function killProcessGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await delay(50);
    if (!(await groupAlive(pgid))) return;
  }
  signalGroup(pgid, 'SIGKILL');
}

/** The reason a lane's work cannot be checked or handed off: its worktree was deleted. */
export function worktreeGone(worktree: string): string {
  return `worktree ${worktree} is gone (deleted outside the console)`;
}

function describeArgv(gate: CommandGateConfig): string[] {
  return gate.shell !== undefined ? ['sh', '-c', gate.shell] : (gate.run ?? []);
}

function spawnErrorMessage(program: string, err: NodeJS.ErrnoException, env: Record<string, string>): string {
  if (err.code === 'ENOENT')
    return `cannot run ${JSON.stringify(program)}: command not found (PATH=${env.PATH ?? '(unset)'})`;
  if (err.code === 'EACCES') return `cannot run ${JSON.stringify(program)}: permission denied`;
  return `cannot run ${JSON.stringify(program)}: ${err.message}`;
}

export async function runCommandGate(
  gate: CommandGateConfig,
  ctx: Pick<GateContext, 'worktree' | 'env' | 'head' | 'signal'>,
  opts: CommandGateOptions = {},
): Promise<GateVerdict> {
  const startedAt = Date.now();
  const graceMs = opts.graceMs ?? 2000;
  const drainMs = opts.drainMs ?? 250;
  const argv = describeArgv(gate);
  const error = (message: string) => makeVerdict(gate, ctx.head, startedAt, 'ERROR', message);
  if (argv.length === 0 || argv[0] === '') return error('the gate has no command');
  try {
    if (!(await stat(ctx.worktree)).isDirectory()) return error(`worktree ${ctx.worktree} is not a directory`);
  } catch {
    return error(worktreeGone(ctx.worktree));
  }
  if (ctx.signal?.aborted) return error('cancelled before it started');
  const env = { ...ctx.env, ...gate.env };

  let child: ChildProcess;
  try {
    child = spawn(argv[0], argv.slice(1), {
      cwd: ctx.worktree,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    return error(spawnErrorMessage(argv[0], err as NodeJS.ErrnoException, env));
  }

  const output = new HeadTailBuffer(opts.outputLimit ?? DEFAULT_OUTPUT_LIMIT);
  const streams = [child.stdout, child.stderr].filter((s) => s !== null);
  let open = streams.length;
  let streamsEnded: () => void = () => {};
  const allEnded = new Promise<void>((resolve) => {
    streamsEnded = resolve;
    if (open === 0) resolve();
  });
  for (const s of streams) {
    s.on('data', (chunk: Buffer) => output.push(chunk));
    s.on('error', () => {});
    s.once('close', () => {
      if (--open === 0) streamsEnded();
    });
  }

  return new Promise<GateVerdict>((resolve) => {
    let settled = false;
    let timedOut = false;
    let cancelled: string | null = null;
    let killing: Promise<void> | null = null;
    const pid = child.pid;
    const killGroup = () => (killing ??= pid === undefined ? Promise.resolve() : killProcessGroup(pid, graceMs));

    const timeoutMs = gate.timeoutSec * 1000;
    const timer = setTimeout(() => {
      timedOut = true;
      void killGroup();
    }, timeoutMs);
    // Last resort: settle even if the leader never reports its exit.
    const backstop = setTimeout(() => finish(null, null), timeoutMs + graceMs + 5000);
    const onAbort = () => {
      cancelled = String(ctx.signal?.reason ?? 'cancelled');
      void killGroup();
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });

    function finish(code: number | null, signal: NodeJS.Signals | null, spawnError?: NodeJS.ErrnoException) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(backstop);
      ctx.signal?.removeEventListener('abort', onAbort);
      for (const s of streams) s.destroy();
      if (spawnError) {
        resolve(error(spawnErrorMessage(argv[0], spawnError, env)));
        return;
      }
      let text = output.toString();
      const note = (line: string) => {
        text += `${text === '' || text.endsWith('\n') ? '' : '\n'}[ao] ${line}\n`;
      };
      if (cancelled !== null) {
        note(`cancelled: ${cancelled}; process group killed`);
        resolve(makeVerdict(gate, ctx.head, startedAt, 'ERROR', text, code));
      } else if (timedOut) {
        note(`timed out after ${gate.timeoutSec} s; process group killed`);
        resolve(makeVerdict(gate, ctx.head, startedAt, 'TIMEOUT', text, code));
      } else if (code === 0) {
        resolve(makeVerdict(gate, ctx.head, startedAt, 'PASS', text, 0));
      } else {
        if (code === null) note(signal ? `killed by ${signal}` : 'did not report its exit');
        resolve(makeVerdict(gate, ctx.head, startedAt, 'FAIL', text, code));
      }
    }

    child.on('error', (err: NodeJS.ErrnoException) => {
      // Spawn failures (ENOENT, EACCES) come here with no pid; later errors (a failed kill) do not end the gate.
      if (child.pid === undefined) finish(null, null, err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer); // the gate is over; cleaning up its leftovers is not a timeout
      void (async () => {
        // Read what is still buffered in the pipes, but never wait for a grandchild to close them.
        await Promise.race([allEnded, delay(drainMs)]);
        await killGroup();
        finish(code, signal);
      })();
    });
  });
}
