/**
 * What the merge queue (lanes/supervisor/mergeQueue.ts) asks of git before a lane lands:
 * - prepareLanding: the commit that would land (current base + the lane, with the configured
 *   strategy; `git merge-tree --write-tree` and `git commit-tree`, no checkout touched), and
 *   whether its tree is the lane head's own tree (then the lane's gates already ran on it);
 *   (`onto`: onto an earlier landing instead of the base, for a batch's chain);
 * - withValidationWorktree: a temporary worktree detached at that commit, under the state dir,
 *   where the required gates run; removed afterwards, also when they fail or throw.
 * mergeLane (merge.ts) then lands exactly the prepared commit (`prepared`), or refuses when the
 * base or the lane moved meanwhile.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { git, gitOut } from './git.js';
import { gitRetrying } from './gitRetry.js';
import { resultCommit, type MergeLaneOptions } from './merge.js';
import { resolveCommit, validateRevisionArg } from './refs.js';
import { repoDirs } from './repo.js';
import { withWorktreeLock } from './worktreeLock.js';

export interface Landing {
  /** the base's commit the landing was computed on */
  old: string;
  /** the lane's head that lands */
  laneHead: string;
  /** the commit the base would move to (`old` when the lane brings nothing new) */
  next: string;
  /** the tree of `next` */
  tree: string;
  /** the tree of `laneHead`: equal to `tree` when the lane's own gates already ran on what lands */
  laneTree: string;
}

const qualify = (name: string) => (name.startsWith('refs/') ? name : `refs/heads/${name}`);

async function treeOf(repoRoot: string, commit: string): Promise<string> {
  return gitOut(['rev-parse', '--verify', '--end-of-options', `${validateRevisionArg(commit)}^{tree}`], repoRoot);
}

/**
 * The commit that would land if the lane were merged into its base now. Throws
 * MergeConflictError (naming the paths) or NotFastForwardError (ff-only) as mergeLane would.
 * With `onto` (a commit: the landing of an earlier entry of a batch), the lane is merged onto
 * that commit instead of the base's tip: the landing chain of the merge queue's batch mode.
 */
export async function prepareLanding(
  opts: Pick<MergeLaneOptions, 'repoRoot' | 'base' | 'branch' | 'strategy' | 'message' | 'author'> & {
    onto?: string;
  },
): Promise<Landing> {
  const old = opts.onto
    ? await resolveCommit(opts.repoRoot, validateRevisionArg(opts.onto, 'onto'))
    : await resolveCommit(opts.repoRoot, qualify(opts.base));
  if (!old)
    throw new Error(
      opts.onto ? `no commit ${opts.onto} in ${opts.repoRoot}` : `no branch ${opts.base} in ${opts.repoRoot}`,
    );
  const laneHead = await resolveCommit(opts.repoRoot, qualify(opts.branch));
  if (!laneHead) throw new Error(`no branch ${opts.branch} in ${opts.repoRoot}`);
  const next = await resultCommit(opts, old, laneHead);
  const [tree, laneTree] = await Promise.all([treeOf(opts.repoRoot, next), treeOf(opts.repoRoot, laneHead)]);
  return { old, laneHead, next, tree, laneTree };
}

/** `<stateDir>/queue/<name>`: where a lane's landing is validated. */
export function validationWorktreePath(stateDir: string, name: string): string {
  return path.join(path.resolve(stateDir), 'queue', name);
}

/** Unregisters and deletes a validation worktree (what is there is a throwaway checkout of a commit). */
async function dropWorktree(repoRoot: string, dir: string): Promise<void> {
  await git(['worktree', 'remove', '--force', '--force', '--', dir], { cwd: repoRoot, allowFail: true });
  await rm(dir, { recursive: true, force: true });
  await gitRetrying(['worktree', 'prune'], { cwd: repoRoot, allowFail: true });
}

/**
 * Runs `fn` in a temporary worktree detached at `commit` (`<stateDir>/queue/<name>`; one left by
 * a killed console is removed first). The worktree is removed when `fn` ends, however it ends.
 * Adding and removing run under the repo's worktree lock (lanes/git/worktreeLock.ts).
 */
export async function withValidationWorktree<T>(
  opts: { repoRoot: string; stateDir: string; name: string; commit: string },
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const commit = validateRevisionArg(opts.commit, 'commit');
  const repo = await repoDirs(opts.repoRoot);
  const dir = validationWorktreePath(opts.stateDir, opts.name);
  await withWorktreeLock(repo.commonDir, `add validation worktree ${opts.name}`, async () => {
    await dropWorktree(repo.root, dir);
    await gitRetrying(['worktree', 'add', '--detach', '--', dir, commit], { cwd: repo.root });
  });
  try {
    return await fn(dir);
  } finally {
    await withWorktreeLock(repo.commonDir, `remove validation worktree ${opts.name}`, () =>
      dropWorktree(repo.root, dir),
    );
  }
}
