/**
 * Finding a repo's engine, and starting one in the background when none runs: `ao-console
 * serve --background` in its own session (detached: setsid), stdin ignored, stdout and stderr
 * appended to `<state dir>/engine.log`, not a child of the terminal. Two dashboards started at
 * once both spawn; the engine lock lets one win (the other's spawn exits 1) and both connect
 * to the winner.
 */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureStateDir, lockFile, type RepoPaths } from '../../lanes/config/paths.js';
import { ownerAlive, readLock, type LockOwner } from '../../lanes/control/lock.js';
import { engineLogPath, rotateEngineLog } from '../../lanes/engine/log.js';
import { NoConsoleError } from './client.js';
import { EngineConnection } from './engineConnection.js';

/** How long a started engine gets to answer on its socket. */
export const ENGINE_START_TIMEOUT_MS = 15_000;

/**
 * The file that runs this ao-console: dist/src/cli.js next to this module when compiled, else
 * the compiled one of this checkout (sources run through a TS loader, e.g. in tests).
 */
export function cliEntry(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = path.join(path.dirname(here), '..', 'cli.js');
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  return path.join(path.dirname(here), '..', '..', 'dist', 'src', 'cli.js');
}

/** The last `lines` lines of the engine log (empty when there is none). */
export function logTail(stateDir: string, lines = 20): string {
  try {
    const text = readFileSync(engineLogPath(stateDir), 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * V8 flags of the background engine: a young generation of 1 MiB semi-spaces (V8 grows it to 16
 * by default). The engine's garbage is short-lived chunks and messages; the smaller space keeps
 * its RSS 13-16 MiB lower with 16 spinner lanes, at the same CPU (170 against 182 ticks per 20 s,
 * means of five paired runs, within the noise) and the same ingest (28.8 against 28.7 MiB/s over
 * six runs each): issue "Cheaper per lane than tmux", docs/performance.md. (`--optimize-for-size`
 * took 10 MiB off its idle RSS but cost 45% more CPU per flooded MiB: docs/performance.md.)
 */
export const ENGINE_NODE_FLAGS = ['--max-semi-space-size=1'];

/**
 * The background engine's environment: the caller's, with glibc's malloc kept to one arena
 * (`MALLOC_ARENA_MAX=1`) unless the caller set it. Each of the engine's threads (main, two
 * workers, V8's helpers) otherwise gets an arena of its own: 7-11 MiB more RSS with 16 spinner
 * lanes (111/108 against 100/101 MiB), at the same ingest (32.4 against 31.5 MiB/s, means of
 * three paired runs, within the noise): issue "Cheaper per lane than tmux", docs/performance.md.
 * Agents do not inherit it: their environment is an allowlist (lanes/process/agentEnv.ts).
 */
export function engineEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.MALLOC_ARENA_MAX === undefined ? { ...env, MALLOC_ARENA_MAX: '1' } : env;
}

export interface StartedEngine {
  pid: number | undefined;
  /** resolves with the spawned process's exit code (1: another engine had the lock) */
  exited: Promise<number | null>;
}

/**
 * Spawns `ao-console --repo <root> serve --background` (with ENGINE_NODE_FLAGS and engineEnv),
 * detached, its output appended to engine.log.
 */
export function spawnEngine(repo: RepoPaths, env: NodeJS.ProcessEnv = process.env): StartedEngine {
  ensureStateDir(repo.stateDir);
  rotateEngineLog(repo.stateDir);
  const log = engineLogPath(repo.stateDir);
  const fd = openSync(log, 'a', 0o600);
  try {
    chmodSync(log, 0o600);
    const child = spawn(
      process.execPath,
      [...ENGINE_NODE_FLAGS, cliEntry(), '--repo', repo.root, 'serve', '--background'],
      {
        cwd: repo.root,
        detached: true,
        stdio: ['ignore', fd, fd],
        env: engineEnv(env),
      },
    );
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    child.unref();
    return { pid: child.pid, exited };
  } finally {
    closeSync(fd);
  }
}

export interface EnsureOptions {
  /** the client name said in hello (the engine's log and status show it) */
  client?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface EnsuredEngine {
  conn: EngineConnection;
  /** true when this call started the engine */
  started: boolean;
}

/** The engine could not be reached, or did not answer in time; the message holds the log's tail. */
export class EngineStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineStartError';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A connection (hello said) to the repo's engine, starting one in the background when nothing
 * listens. Waits up to 15 s for a started engine; on failure throws EngineStartError with the
 * tail of engine.log. A protocol mismatch (ProtocolMismatchError) is thrown as it is.
 */
export async function ensureEngine(repo: RepoPaths, opts: EnsureOptions = {}): Promise<EnsuredEngine> {
  const client = opts.client ?? 'dashboard';
  try {
    return { conn: await EngineConnection.connect(repo.stateDir, client), started: false };
  } catch (err) {
    if (!(err instanceof NoConsoleError)) throw err;
  }
  const started = spawnEngine(repo, opts.env);
  let exitCode: number | null | undefined;
  void started.exited.then((code) => (exitCode = code));
  const timeoutMs = opts.timeoutMs ?? ENGINE_START_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let exitedAt: number | null = null;
  let holder: LockOwner | null = null;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const conn = await EngineConnection.connect(repo.stateDir, client);
      // ours when the engine that answers is the process we spawned (two racing starts: one wins)
      return { conn, started: conn.info?.pid === started.pid };
    } catch (err) {
      if (!(err instanceof NoConsoleError)) throw err;
      last = err;
    }
    // Our spawn exited: fine when another engine won the lock (it comes up in a moment, or
    // later when its start is slow: wait while the lock's owner lives); when nothing answers a
    // few seconds after the lock is free, the start failed.
    if (exitCode !== undefined) {
      holder = readLock(lockFile(repo.stateDir));
      if (holder && !ownerAlive(holder)) holder = null;
      if (holder) exitedAt = null;
      else {
        exitedAt ??= Date.now();
        if (Date.now() - exitedAt > 3000) break;
      }
    }
    await sleep(100);
  }
  const tail = logTail(repo.stateDir);
  const why = holder
    ? `another engine (pid ${holder.pid}) holds the lock but did not answer within ${Math.round(timeoutMs / 1000)} s`
    : exitCode !== undefined
      ? `the engine exited (code ${exitCode}) without answering`
      : `the engine did not answer within ${Math.round(timeoutMs / 1000)} s`;
  throw new EngineStartError(
    `could not start the engine for ${repo.root}: ${why} (${last instanceof Error ? last.message : 'no socket'}).\n` +
      `The end of ${engineLogPath(repo.stateDir)}:\n${tail || '(empty)'}`,
  );
}
