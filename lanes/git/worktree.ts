/**
 * Lane worktrees: `<stateDir>/worktrees/<lane>` on branch `ao/<lane>`.
 *
 * Rules kept by every function here:
 *  - the lane name is validated before any git call; refs given by callers must not start
 *    with "-"; git runs from an argv array with `--` before paths and refs where git takes it;
 *  - no commit is ever lost: before a branch is reset or deleted, or a worktree removed, what is
 *    not already in base is kept under `refs/ao/archive/<lane>/<timestamp>`, uncommitted files
 *    included (see snapshot.ts);
 *  - every lane worktree is created locked with reason `ao-console lane <lane>`, so a plain
 *    `git worktree remove`/`prune` by someone else refuses it; a lock with any other reason is
 *    someone else's and is never lifted here;
 *  - a lock file is removed only when no process may hold it (see locks.ts);
 *  - create and remove run under the repository's worktree lock (worktreeLock.ts): one at a time
 *    per repo, in this process and across processes, because git's worktree bookkeeping is not
 *    safe under concurrent `git worktree add`/`remove`/`prune`; git failures that only mean
 *    another git process holds a lock are retried (gitRetry.ts).
 *
 * This file creates and removes; making room without losing work is worktreeRetire.ts, and
 * listing and pruning git's registered worktrees is worktreeRegistry.ts.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { gitRetrying } from './gitRetry.js';
import { clearStaleLock, GitLockHeldError } from './locks.js';
import { branchTip, resolveCommit, RevisionArgError, validateRevisionArg } from './refs.js';
import { repoDirs, type RepoDirs } from './repo.js';
import { LaneNameError, laneBranch, validateLaneName } from '../lane/names.js';
import { withWorktreeLock } from './worktreeLock.js';
import type { WorktreeEntry } from './worktreeList.js';
import { canonicalPath } from './worktreeRegistry.js';
import {
  clearTheWay,
  keep,
  laneLockReason,
  pruneStale,
  removeLeftoverDir,
  retireContext,
  retireWorktree,
  WorktreeError,
} from './worktreeRetire.js';
import { ensureStateDir, worktreesDir } from '../config/paths.js';

// The lane worktree's public face: what callers need about lane worktrees, from one module.
export { worktreeStatus } from './snapshot.js';
export { archiveRef, commitsAhead, headCommit } from './refs.js';
export type { WorktreeEntry } from './worktreeList.js';
export { listLaneWorktrees, listWorktrees, pruneWorktrees, type LaneWorktree } from './worktreeRegistry.js';
export { laneLockReason, WorktreeError, type WorktreeErrorCode } from './worktreeRetire.js';
export { WorktreeLockTimeoutError } from './worktreeLock.js';

/**
 * How a front end should report a failed create or remove: `bad-input` when the request names
 * something that cannot work (a lane name or base that is invalid or missing, a branch checked
 * out elsewhere: exit 2), `conflict` when something in the repo is in the way that the operator
 * must settle (a foreign worktree lock, a state dir inside the working tree: exit 1), `internal`
 * for everything else: git failing, a lock another process holds, a broken worktree (exit 1).
 */
export function worktreeFailureCode(err: unknown): 'bad-input' | 'conflict' | 'internal' {
  if (err instanceof LaneNameError || err instanceof RevisionArgError) return 'bad-input';
  if (err instanceof GitLockHeldError) return 'internal';
  if (err instanceof WorktreeError) {
    switch (err.code) {
      case 'base-missing':
      case 'branch-checked-out':
      case 'bad-path':
        return 'bad-input';
      case 'foreign-lock':
      case 'inside-working-tree':
        return 'conflict';
      case 'broken-worktree':
        return 'internal';
    }
  }
  return 'internal';
}

export interface CreateLaneWorktreeOptions {
  repoRoot: string;
  stateDir: string;
  lane: string;
  /** branch (or any commit-ish) the lane starts from */
  base: string;
}

export interface CreatedLaneWorktree {
  path: string;
  branch: string;
  /** the commit `base` named when the lane was created */
  baseCommit: string;
  /** archive refs written while making room (old branch commits, uncommitted files) */
  archivedRefs: string[];
  /** what was found and done, one sentence each, for the operator */
  notes: string[];
}

export interface RemoveLaneWorktreeOptions {
  repoRoot: string;
  stateDir: string;
  lane: string;
  worktreePath: string;
  /** must be `ao/<lane>` */
  branch: string;
  base: string;
  /** leave the branch in place (its commits stay reachable from it) */
  keepBranch?: boolean;
}

export interface RemovedLaneWorktree {
  /** the archive ref holding the lane's unmerged work, null when everything was in base */
  archivedRef: string | null;
  archivedRefs: string[];
  notes: string[];
}

const within = (p: string, dir: string) => p === dir || p.startsWith(dir + path.sep);

/** Throws unless `wtPath` is a lane directory inside the state dir and outside the working tree. */
async function checkLanePath(repo: RepoDirs, stateDir: string, wtPath: string): Promise<string> {
  const p = await canonicalPath(wtPath);
  const dir = await canonicalPath(worktreesDir(stateDir));
  if (path.dirname(p) !== dir) {
    throw new WorktreeError(
      'bad-path',
      `${wtPath} is not a lane worktree path (expected a directory directly under ${dir})`,
    );
  }
  const root = await canonicalPath(repo.root);
  const common = await canonicalPath(repo.commonDir);
  if (within(p, root) && !within(p, common)) {
    throw new WorktreeError(
      'inside-working-tree',
      `lane worktree ${p} would be inside the working tree ${root} (git status would show it); put the state dir outside it`,
    );
  }
  return p;
}

/**
 * Creates a fresh worktree for a lane at `<stateDir>/worktrees/<lane>` on branch `ao/<lane>`,
 * started at `base`. Anything found in the way is made safe and described in `notes`:
 * an old branch is reset when all its commits are in base, otherwise archived first; an old
 * worktree at the path is snapshotted (uncommitted files too) and removed; stale registrations
 * are pruned; leftover lock files no process holds are removed. Throws WorktreeError when base
 * does not exist, the branch is checked out in a worktree that is not ours, or a foreign lock
 * is in the way; GitLockHeldError when a git process is running on a lock we need;
 * WorktreeLockTimeoutError when another process held the worktree lock too long
 * (worktreeFailureCode says which of these are the request's fault).
 */
export async function createLaneWorktree(opts: CreateLaneWorktreeOptions): Promise<CreatedLaneWorktree> {
  const lane = validateLaneName(opts.lane);
  const branch = laneBranch(lane);
  const base = validateRevisionArg(opts.base, 'base branch');
  const repo = await repoDirs(opts.repoRoot);
  return withWorktreeLock(repo.commonDir, `create lane worktree ${lane}`, () => create(repo, opts, lane, branch, base));
}

async function create(
  repo: RepoDirs,
  opts: CreateLaneWorktreeOptions,
  lane: string,
  branch: string,
  base: string,
): Promise<CreatedLaneWorktree> {
  const stateDir = path.resolve(opts.stateDir);
  const wtPath = await checkLanePath(repo, stateDir, path.join(worktreesDir(stateDir), lane));
  const baseCommit = await resolveCommit(repo.root, base);
  if (!baseCommit) {
    throw new WorktreeError('base-missing', `base branch ${JSON.stringify(base)} does not exist in ${repo.root}`);
  }
  const ctx = retireContext(repo, lane, branch, baseCommit, wtPath);

  // The main index is not needed to add a worktree, but a leftover lock there breaks the merge later.
  const mainLock = path.join(repo.gitDir, 'index.lock');
  try {
    if ((await clearStaleLock(mainLock, { roots: [repo.root, repo.gitDir], exclude: [ctx.lanesDir] })) === 'removed') {
      ctx.notes.push(`removed leftover ${mainLock} (no git process was using it)`);
    }
  } catch {
    ctx.notes.push(`${mainLock} is held by a running git process; left alone (creating the lane does not need it)`);
  }

  await clearTheWay(ctx, wtPath);

  const tip = await branchTip(repo.root, branch);
  if (tip) {
    await keep(ctx, tip, `branch ${branch}`);
    // Compare-and-swap: if someone moved the branch since we looked, this fails instead of losing it.
    await gitRetrying(
      ['update-ref', '-m', `ao-console: reset lane ${lane} to ${base}`, '--', `refs/heads/${branch}`, baseCommit, tip],
      {
        cwd: repo.root,
      },
    );
    ctx.notes.push(
      tip === baseCommit
        ? `branch ${branch} already existed at ${base}; reused it`
        : `branch ${branch} already existed; reset it to ${base} (${baseCommit.slice(0, 12)})`,
    );
  } else {
    await gitRetrying(
      ['update-ref', '-m', `ao-console: lane ${lane} from ${base}`, '--', `refs/heads/${branch}`, baseCommit, ''],
      {
        cwd: repo.root,
      },
    );
  }

  ensureStateDir(stateDir);
  await mkdir(ctx.lanesDir, { recursive: true, mode: 0o700 });
  await gitRetrying(['worktree', 'add', '--lock', '--reason', laneLockReason(lane), '--', wtPath, branch], {
    cwd: repo.root,
  });
  ctx.notes.push(`created worktree ${wtPath} on ${branch} at ${base} (${baseCommit.slice(0, 12)})`);
  return { path: wtPath, branch, baseCommit, archivedRefs: ctx.archived.map((a) => a.ref), notes: ctx.notes };
}

/**
 * Removes a lane's worktree and (unless keepBranch) its branch without losing work: uncommitted
 * files are committed onto an archive ref first (snapshot.ts), and branch commits not in base
 * are archived before the branch is deleted. A branch still checked out in another worktree is
 * kept. Removing what is already gone is not an error.
 */
export async function removeLaneWorktree(opts: RemoveLaneWorktreeOptions): Promise<RemovedLaneWorktree> {
  const lane = validateLaneName(opts.lane);
  const branch = laneBranch(lane);
  if (opts.branch !== branch) {
    throw new WorktreeError(
      'bad-path',
      `lane ${lane} works on ${branch}, not ${JSON.stringify(opts.branch)}; refusing to delete it`,
    );
  }
  const base = validateRevisionArg(opts.base, 'base branch');
  const repo = await repoDirs(opts.repoRoot);
  return withWorktreeLock(repo.commonDir, `remove lane worktree ${lane}`, () => remove(repo, opts, lane, branch, base));
}

async function remove(
  repo: RepoDirs,
  opts: RemoveLaneWorktreeOptions,
  lane: string,
  branch: string,
  base: string,
): Promise<RemovedLaneWorktree> {
  const wtPath = await checkLanePath(repo, path.resolve(opts.stateDir), opts.worktreePath);
  const baseCommit = await resolveCommit(repo.root, base);
  const ctx = retireContext(repo, lane, branch, baseCommit, wtPath);
  if (!baseCommit)
    ctx.notes.push(`base ${JSON.stringify(base)} no longer exists: every commit of the lane is archived`);

  const entries = await pruneStale(ctx, wtPath);
  const ours: WorktreeEntry[] = [];
  for (const e of entries) if ((await canonicalPath(e.path)) === wtPath) ours.push(e);
  if (ours[0]) await retireWorktree(ctx, ours[0], wtPath);
  else await removeLeftoverDir(ctx, wtPath);

  const tip = await branchTip(repo.root, branch);
  if (tip && !opts.keepBranch) {
    const elsewhere = entries.find((e) => e.branch === branch && !ours.includes(e));
    if (elsewhere) {
      ctx.notes.push(`branch ${branch} is checked out in ${elsewhere.path}; kept it`);
    } else {
      await keep(ctx, tip, `branch ${branch}`);
      await gitRetrying(
        ['update-ref', '-d', '-m', `ao-console: remove lane ${lane}`, '--', `refs/heads/${branch}`, tip],
        {
          cwd: repo.root,
        },
      );
      ctx.notes.push(`deleted branch ${branch}`);
    }
  }
  const refs = ctx.archived.map((a) => a.ref);
  return { archivedRef: refs.at(-1) ?? null, archivedRefs: refs, notes: ctx.notes };
}
