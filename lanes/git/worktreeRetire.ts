/**
 * Making room for a lane worktree, or taking one away, without losing work: what is not already
 * in base is kept under an archive ref first (refs.ts), uncommitted files included (snapshot.ts);
 * our own worktree lock is lifted, someone else's never; registrations whose directory is gone
 * are pruned; leftover lock files are removed only when no process may hold them (locks.ts).
 * Used by createLaneWorktree and removeLaneWorktree (worktree.ts), which hold the repository's
 * worktree lock (worktreeLock.ts) while these run: nothing here takes it.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { git } from './git.js';
import { gitRetrying } from './gitRetry.js';
import { clearStaleLock } from './locks.js';
import { archiveRef, isAncestor, resolveCommit } from './refs.js';
import type { RepoDirs } from './repo.js';
import { snapshotDirectory, snapshotWorktree } from './snapshot.js';
import type { WorktreeEntry } from './worktreeList.js';
import { canonicalPath, isGone, listWorktrees, pruneRegistrations } from './worktreeRegistry.js';

export type WorktreeErrorCode =
  'base-missing' | 'branch-checked-out' | 'foreign-lock' | 'inside-working-tree' | 'bad-path' | 'broken-worktree';

/** A lane worktree operation that cannot go on safely; `code` says which case. */
export class WorktreeError extends Error {
  constructor(
    readonly code: WorktreeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorktreeError';
  }
}

/** The lock reason ao-console puts on its worktrees. */
export const laneLockReason = (lane: string) => `ao-console lane ${lane}`;
const isOurLock = (reason: string | null) => reason !== null && reason.startsWith('ao-console lane ');

/** One create or remove call: what it found and did, for the operator. */
export interface RetireContext {
  repo: RepoDirs;
  lane: string;
  branch: string;
  /** null when base no longer names a commit: then everything counts as unmerged */
  baseCommit: string | null;
  lanesDir: string;
  notes: string[];
  archived: { ref: string; commit: string }[];
}

export function retireContext(
  repo: RepoDirs,
  lane: string,
  branch: string,
  baseCommit: string | null,
  wtPath: string,
): RetireContext {
  return { repo, lane, branch, baseCommit, lanesDir: path.dirname(wtPath), notes: [], archived: [] };
}

/** Whether `commit` is already safe: in base, or inside something archived during this call. */
async function alreadyKept(ctx: RetireContext, commit: string): Promise<string | null> {
  if (ctx.baseCommit && (await isAncestor(ctx.repo.root, commit, ctx.baseCommit))) return 'base';
  for (const a of ctx.archived) if (await isAncestor(ctx.repo.root, commit, a.commit)) return a.ref;
  return null;
}

/** Keeps `commit` under an archive ref unless it is already in base or in something archived. */
export async function keep(ctx: RetireContext, commit: string, what: string): Promise<void> {
  const where = await alreadyKept(ctx, commit);
  if (where === 'base') return;
  if (where) {
    ctx.notes.push(`${what} (${commit.slice(0, 12)}) is already kept in ${where}`);
    return;
  }
  const ref = await archiveRef(ctx.repo.root, ctx.lane, commit);
  ctx.archived.push({ ref, commit });
  ctx.notes.push(`${what} (${commit.slice(0, 12)}) not in base: kept as ${ref}`);
}

/** Lifts our own lock; refuses someone else's. */
async function unlockIfOurs(ctx: RetireContext, e: WorktreeEntry): Promise<void> {
  if (!e.locked) return;
  if (!isOurLock(e.lockReason)) {
    const why = e.lockReason ? `reason: ${JSON.stringify(e.lockReason)}` : 'no reason given';
    throw new WorktreeError(
      'foreign-lock',
      `worktree ${e.path} is locked by someone else (${why}); run \`git worktree unlock ${e.path}\` if it may be replaced`,
    );
  }
  await gitRetrying(['worktree', 'unlock', '--', e.path], { cwd: ctx.repo.root });
  ctx.notes.push(`unlocked ${e.path} (locked by an earlier ao-console run)`);
}

/** Prunes registered worktrees whose directory is gone, when they are ours or hold our branch. */
export async function pruneStale(ctx: RetireContext, wtPath: string): Promise<WorktreeEntry[]> {
  let entries = await listWorktrees(ctx.repo.root);
  const stale: WorktreeEntry[] = [];
  for (const e of entries) {
    if (!isGone(e)) continue;
    if (e.branch === ctx.branch || (await canonicalPath(e.path)) === wtPath) stale.push(e);
  }
  if (stale.length === 0) return entries;
  for (const e of stale) {
    if (e.locked && !isOurLock(e.lockReason)) continue; // reported below as checked out elsewhere
    await unlockIfOurs(ctx, e);
    // Its branch and HEAD commits stay in the repo; only the worktree's own HEAD may be loose.
    if (e.head && e.detached) await keep(ctx, e.head, `detached HEAD of the stale worktree ${e.path}`);
  }
  const pruned = await pruneRegistrations(ctx.repo.root);
  ctx.notes.push(
    `pruned stale worktree registrations whose directory is gone: ${pruned.join('; ') || stale.map((e) => e.path).join(', ')}`,
  );
  entries = await listWorktrees(ctx.repo.root);
  return entries;
}

/** Saves what a registered lane worktree holds beyond base, then removes it. */
export async function retireWorktree(ctx: RetireContext, e: WorktreeEntry, wtPath: string): Promise<void> {
  await unlockIfOurs(ctx, e);
  let wtGitDir: string;
  try {
    wtGitDir = (await git(['rev-parse', '--absolute-git-dir'], { cwd: wtPath })).stdout;
  } catch (err) {
    throw new WorktreeError(
      'broken-worktree',
      `worktree ${wtPath} is registered but git cannot use it (${(err as Error).message}); its uncommitted files cannot be saved, so it is left alone: move it away by hand`,
    );
  }
  const lock = path.join(wtGitDir, 'index.lock');
  if ((await clearStaleLock(lock, { roots: [wtPath, wtGitDir] })) === 'removed') {
    ctx.notes.push(`removed leftover ${lock} (no git process was using it)`);
  }
  const snap = await snapshotWorktree(wtPath, `lane ${ctx.lane}`);
  if (snap) await keep(ctx, snap, `uncommitted changes in ${wtPath}`);
  else if (e.head) await keep(ctx, e.head, `HEAD of ${wtPath}`);
  await gitRetrying(['worktree', 'remove', '--force', '--', wtPath], { cwd: ctx.repo.root });
  ctx.notes.push(`removed the old worktree ${wtPath}`);
}

/** Makes room at `wtPath` and clears everything that would stop a worktree for our branch. */
export async function clearTheWay(ctx: RetireContext, wtPath: string): Promise<void> {
  const refLock = path.join(ctx.repo.commonDir, 'refs', 'heads', `${ctx.branch}.lock`);
  if ((await clearStaleLock(refLock, { roots: [ctx.repo.root, ctx.lanesDir] })) === 'removed') {
    ctx.notes.push(`removed leftover ${refLock} (no git process was using it)`);
  }
  const entries = await pruneStale(ctx, wtPath);
  let ours: WorktreeEntry | undefined;
  for (const e of entries) {
    const p = await canonicalPath(e.path);
    if (p === wtPath) ours = e;
    else if (e.branch === ctx.branch) {
      const state = isGone(e) ? ` (its directory is gone but it is locked: ${JSON.stringify(e.lockReason)})` : '';
      throw new WorktreeError(
        'branch-checked-out',
        `branch ${ctx.branch} is checked out in another worktree: ${e.path}${state}; switch that worktree to another branch or remove it first`,
      );
    }
  }
  if (ours) await retireWorktree(ctx, ours, wtPath);
  else await removeLeftoverDir(ctx, wtPath);
}

/** Removes a directory at a lane's worktree path that no worktree is registered at. */
export async function removeLeftoverDir(ctx: RetireContext, wtPath: string): Promise<void> {
  if (!existsSync(wtPath)) return;
  // Its files may be a lane's uncommitted work whose registration was lost: saved first.
  const parent = ctx.baseCommit ?? (await resolveCommit(ctx.repo.root, 'HEAD'));
  if (parent) {
    const snap = await snapshotDirectory(ctx.repo.commonDir, wtPath, parent, `lane ${ctx.lane} (leftover directory)`);
    if (snap) await keep(ctx, snap, `files of the leftover directory ${wtPath}`);
  }
  await rm(wtPath, { recursive: true, force: true });
  ctx.notes.push(`removed the leftover directory ${wtPath} (no worktree was registered there)`);
}
