/**
 * The worktrees git has registered for a repo: listing them (and the lane worktrees among them),
 * telling which are gone, and pruning the registrations of gone ones. Parsing is in
 * worktreeList.ts. Listing retries a transient lock failure (gitRetry.ts); pruning changes git's
 * worktree bookkeeping, so it runs under the repository's worktree lock (worktreeLock.ts).
 */
import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { worktreesDir } from '../config/paths.js';
import { gitRetrying } from './gitRetry.js';
import { repoDirs } from './repo.js';
import { withWorktreeLock } from './worktreeLock.js';
import { parseWorktreeList, type WorktreeEntry } from './worktreeList.js';

export interface LaneWorktree extends WorktreeEntry {
  /** the lane, from the directory name under the worktrees dir */
  lane: string;
  /** its directory is gone (git says `prunable` only when it is not locked; this says it always) */
  missing: boolean;
}

/** Real path of `p`, resolving the longest existing prefix (git stores real paths). */
export async function canonicalPath(p: string): Promise<string> {
  const abs = path.resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(await realpath(head), ...tail.reverse());
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return abs;
      tail.push(path.basename(head));
      head = parent;
    }
  }
}

/**
 * A registered worktree whose directory is gone. git reports `prunable` only for unlocked ones,
 * so a locked worktree is checked on disk.
 */
export const isGone = (e: WorktreeEntry) => !e.bare && (e.prunable || !existsSync(e.path));

/** Every worktree of the repo, as `git worktree list --porcelain -z` reports them. */
export async function listWorktrees(repoRoot: string): Promise<WorktreeEntry[]> {
  const out = await gitRetrying(['worktree', 'list', '--porcelain', '-z'], { cwd: repoRoot, raw: true });
  return parseWorktreeList(out.stdout);
}

/** The worktrees under `<stateDir>/worktrees/`, each with its lane name. */
export async function listLaneWorktrees(repoRoot: string, stateDir: string): Promise<LaneWorktree[]> {
  const dir = await canonicalPath(worktreesDir(stateDir));
  const all = await listWorktrees(repoRoot);
  const lanes: LaneWorktree[] = [];
  for (const e of all) {
    const p = await canonicalPath(e.path);
    if (path.dirname(p) === dir) lanes.push({ ...e, lane: path.basename(p), missing: isGone(e) });
  }
  return lanes;
}

/**
 * Runs `git worktree prune --verbose` under the repository's worktree lock and returns what it
 * removed (one line per worktree).
 */
export async function pruneWorktrees(repoRoot: string): Promise<string[]> {
  const repo = await repoDirs(repoRoot);
  return withWorktreeLock(repo.commonDir, 'git worktree prune', () => pruneRegistrations(repoRoot));
}

/** pruneWorktrees without taking the lock: only for code already holding it. */
export async function pruneRegistrations(repoRoot: string): Promise<string[]> {
  const res = await gitRetrying(['worktree', 'prune', '--verbose'], { cwd: repoRoot });
  return `${res.stdout}\n${res.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('Removing '));
}
