/**
 * Leftover git lock files (`index.lock`, `refs/heads/<branch>.lock`).
 *
 * git creates a lock file with O_EXCL and renames or deletes it when done; a git process that
 * was killed leaves it behind, and every later git command that needs the lock fails. We remove
 * one only when no process could still own it. On Linux that is decided from /proc:
 *
 *  1. no process has the lock file open (any `/proc/<pid>/fd/*` link resolving to it), and
 *  2. no git process (`/proc/<pid>/comm` is `git` or `git-*`) has its cwd inside the roots the
 *     lock belongs to (git chdirs to the top of the worktree it works on).
 *
 * Check 2 is needed because git does not always keep the lock open: `git commit -a` writes
 * `index.lock`, closes it, and keeps it while the editor runs. Without /proc (macOS) nothing is
 * removed and the lock is reported as possibly held. Only processes of our own user are
 * visible; git of another user in the same repo is not detected.
 */
import { readdir, readFile, readlink, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';

export interface LockHolder {
  pid: number;
  /** short command name from /proc/<pid>/comm, or the command line when readable */
  command: string;
  reason: 'has the lock file open' | 'is a git process working here';
}

export class GitLockHeldError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holders: LockHolder[] | null,
  ) {
    const who = holders
      ? holders.map((h) => `pid ${h.pid} (${h.command}) ${h.reason}`).join('; ')
      : 'cannot tell whether a git process holds it (no /proc on this system)';
    super(
      `${lockPath} exists and a git process may be running: ${who}. Wait for it to finish, or remove the file by hand if no git runs.`,
    );
    this.name = 'GitLockHeldError';
  }
}

export interface LockScope {
  /** directories a git process owning this lock would have as its cwd (worktree tops, gitdirs) */
  roots: string[];
  /** directories inside `roots` that belong to someone else (other lanes' worktrees) */
  exclude?: string[];
}

const within = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

async function canonical(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return path.resolve(p);
  }
}

async function describe(pid: string): Promise<string> {
  try {
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean).join(' ');
    if (cmd) return cmd.length > 120 ? `${cmd.slice(0, 117)}...` : cmd;
  } catch {
    // gone or not ours
  }
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return '?';
  }
}

/**
 * The processes that may own `lockPath` (see the module comment), or null when /proc is not
 * available and nothing can be said.
 */
export async function findLockHolders(lockPath: string, scope: LockScope): Promise<LockHolder[] | null> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const lock = await canonical(lockPath);
  const lockAlt = path.resolve(lockPath);
  const roots = await Promise.all(scope.roots.map(canonical));
  const exclude = await Promise.all((scope.exclude ?? []).map(canonical));
  const holders: LockHolder[] = [];
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      // exited, or another user's process
    }
    let open = false;
    for (const fd of fds) {
      try {
        const target = await readlink(`/proc/${pid}/fd/${fd}`);
        if (target === lock || target === lockAlt) {
          open = true;
          break;
        }
      } catch {
        // fd closed meanwhile
      }
    }
    if (open) {
      holders.push({ pid: Number(pid), command: await describe(pid), reason: 'has the lock file open' });
      continue;
    }
    let comm = '';
    try {
      comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
    } catch {
      continue;
    }
    if (comm !== 'git' && !comm.startsWith('git-')) continue;
    let cwd: string;
    try {
      cwd = await readlink(`/proc/${pid}/cwd`);
    } catch {
      continue;
    }
    if (roots.some((r) => within(cwd, r)) && !exclude.some((e) => within(cwd, e))) {
      holders.push({ pid: Number(pid), command: await describe(pid), reason: 'is a git process working here' });
    }
  }
  return holders;
}

/**
 * Removes `lockPath` when it exists and no process may own it. Returns 'absent' or 'removed';
 * throws GitLockHeldError when a holder is found (or cannot be ruled out).
 */
export async function clearStaleLock(lockPath: string, scope: LockScope): Promise<'absent' | 'removed'> {
  try {
    await stat(lockPath);
  } catch {
    return 'absent';
  }
  const holders = await findLockHolders(lockPath, scope);
  if (holders === null || holders.length > 0) throw new GitLockHeldError(lockPath, holders);
  await rm(lockPath, { force: true });
  return 'removed';
}
