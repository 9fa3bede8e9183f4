/**
 * One worktree operation at a time per repository.
 *
 * git's worktree bookkeeping (`<common dir>/worktrees/*`) is not safe under concurrent
 * `git worktree add`/`remove`/`prune` in one repo: a second git can read another's half-written
 * admin files (`fatal: failed to read …/commondir`), and a prune can take a worktree that is
 * being added. So every create, remove and prune of the console runs inside withWorktreeLock:
 *
 *  - in one process, a promise queue per repository (keyed by the real path of the common dir):
 *    12 lanes created at once run one after the other;
 *  - across processes (the engine, `gc`, `doctor`, a second console), the lock file
 *    `<common dir>/ao-console-worktrees.lock`. It is created whole with link(2) from a temp file,
 *    which fails when the file exists (the O_EXCL of a link), so a reader never sees a half-written
 *    lock. It names its holder: pid, the pid's start time (from /proc, so a reused pid is not
 *    taken for the holder), host, when, and what for.
 *  - a lock whose holder is dead (same host, the pid gone or started at another time) is taken
 *    over, under a second O_EXCL file `….lock.takeover` so that two waiters never both remove it;
 *    a takeover file left by a dead process is removed the same way. A live holder is waited for
 *    (polling, up to `timeoutMs`), then WorktreeLockTimeoutError names it.
 *
 * The lock is not re-entrant: code inside withWorktreeLock calls the unlocked functions (the
 * public ones in worktree.ts and worktreeRegistry.ts take it).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, realpath, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';

export const WORKTREE_LOCK_FILE = 'ao-console-worktrees.lock';

/** Who holds the worktree lock, as written in the lock file. */
export interface WorktreeLockHolder {
  pid: number;
  /** the pid's start time (field 22 of /proc/<pid>/stat); null where /proc is not readable */
  start: string | null;
  host: string;
  /** epoch ms when taken */
  at: number;
  what: string;
  /** random, so a holder releases only its own lock */
  token: string;
}

export class WorktreeLockTimeoutError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: WorktreeLockHolder | null,
    waitedMs: number,
  ) {
    const who = holder
      ? `pid ${holder.pid} on ${holder.host} (${holder.what}) has held it since ${new Date(holder.at).toISOString()}`
      : 'its holder could not be read';
    super(
      `waited ${Math.round(waitedMs / 1000)} s for the worktree lock ${lockPath}: ${who}. If no ao-console process runs, remove the file.`,
    );
    this.name = 'WorktreeLockTimeoutError';
  }
}

export interface WorktreeLockOptions {
  /** give up waiting for another process after this long (default 120 s) */
  timeoutMs?: number;
}

const queues = new Map<string, Promise<unknown>>();

/** The start time of `pid` from /proc, or null when it cannot be read. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process that wrote `h` may still run: false only when that is certain. */
export function holderAlive(h: WorktreeLockHolder): boolean {
  if (h.host !== hostname()) return true; // another machine (a shared disk): cannot tell
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStart(h.pid);
  return h.start === null || now === null || now === h.start;
}

async function readHolder(file: string): Promise<WorktreeLockHolder | null | 'absent'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  try {
    const h = JSON.parse(text) as WorktreeLockHolder;
    return typeof h.pid === 'number' && typeof h.token === 'string' ? h : null;
  } catch {
    return null;
  }
}

/** Creates `file` holding `holder` only if it does not exist; false when it exists. */
async function createExclusive(file: string, holder: WorktreeLockHolder): Promise<boolean> {
  const tmp = `${file}.${process.pid}.${holder.token}.tmp`;
  await writeFile(tmp, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** A lock file whose content cannot be read is stale once it is this old (its writer died mid-way). */
const UNREADABLE_STALE_MS = 30_000;

async function isStale(file: string, h: WorktreeLockHolder | null): Promise<boolean> {
  if (h) return !holderAlive(h);
  try {
    return Date.now() - (await stat(file)).mtimeMs > UNREADABLE_STALE_MS;
  } catch {
    return false;
  }
}

function newHolder(what: string): WorktreeLockHolder {
  return {
    pid: process.pid,
    start: processStart(process.pid),
    host: hostname(),
    at: Date.now(),
    what,
    token: randomBytes(8).toString('hex'),
  };
}

/**
 * Removes `file` when its holder is dead. Returns true when it was removed (or was already gone).
 * Runs under `<file>.takeover`, so no two processes judge and remove the same lock at once.
 */
async function takeOverIfStale(file: string, depth = 0): Promise<boolean> {
  const guard = `${file}.takeover`;
  const me = newHolder(`take over ${path.basename(file)}`);
  if (!(await createExclusive(guard, me))) {
    const g = await readHolder(guard);
    if (depth === 0 && g !== 'absent' && (await isStale(guard, g))) await takeOverIfStale(guard, depth + 1);
    return false;
  }
  try {
    const h = await readHolder(file);
    if (h === 'absent') return true;
    if (!(await isStale(file, h))) return false;
    await unlink(file).catch(() => {});
    return true;
  } finally {
    await unlink(guard).catch(() => {});
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function acquire(file: string, what: string, timeoutMs: number): Promise<WorktreeLockHolder> {
  const me = newHolder(what);
  const started = Date.now();
  let delay = 20;
  for (;;) {
    if (await createExclusive(file, me)) return me;
    const h = await readHolder(file);
    if (h !== 'absent' && (await isStale(file, h)) && (await takeOverIfStale(file))) continue;
    if (h === 'absent') continue;
    if (Date.now() - started > timeoutMs) throw new WorktreeLockTimeoutError(file, h, Date.now() - started);
    await sleep(delay + Math.floor(Math.random() * delay));
    delay = Math.min(delay * 2, 250);
  }
}

async function release(file: string, me: WorktreeLockHolder): Promise<void> {
  const h = await readHolder(file).catch(() => null);
  if (h && h !== 'absent' && h.token === me.token) await unlink(file).catch(() => {});
}

/** The lock file of the repository whose git common dir is `commonDir`. */
export const worktreeLockPath = (commonDir: string) => path.join(commonDir, WORKTREE_LOCK_FILE);

/**
 * Runs `fn` while holding the repository's worktree lock (in this process and across processes).
 * `what` names the operation in the lock file, for whoever waits on it.
 */
export async function withWorktreeLock<T>(
  commonDir: string,
  what: string,
  fn: () => Promise<T>,
  opts: WorktreeLockOptions = {},
): Promise<T> {
  const key = await realpath(commonDir).catch(() => path.resolve(commonDir));
  const before = queues.get(key) ?? Promise.resolve();
  const run = before.then(async () => {
    const file = worktreeLockPath(key);
    const me = await acquire(file, what, opts.timeoutMs ?? 120_000);
    try {
      return await fn();
    } finally {
      await release(file, me);
    }
  });
  const tail = run.catch(() => {});
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}
