/**
 * Saving a worktree's uncommitted state as a commit without touching it.
 *
 * `git stash create` would leave untracked files out, and agents mostly create new files, so
 * instead: copy the worktree's index to a temporary index file, `git add -A` into that copy
 * (tracked changes, deletions and untracked files; ignored files such as node_modules stay out),
 * `git write-tree`, and `git commit-tree` with HEAD as parent. The worktree, its real index and
 * its branch are left exactly as they were. The commit is authored as ao-console, so it works on
 * a machine without a git identity and is never mistaken for the agent's own work.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { git } from './git.js';
import { parseStatusPaths } from './worktreeList.js';

/** The author of every snapshot commit, and the start of its subject: savedWork.ts tells snapshots by them. */
export const SNAPSHOT_EMAIL = 'ao-console@localhost';
export const SNAPSHOT_SUBJECT = 'ao-console: uncommitted changes';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'ao-console',
  GIT_AUTHOR_EMAIL: SNAPSHOT_EMAIL,
  GIT_COMMITTER_NAME: 'ao-console',
  GIT_COMMITTER_EMAIL: SNAPSHOT_EMAIL,
};

/** Whether a worktree has changes `git status` would show (untracked files included, ignored not). */
export async function worktreeStatus(worktreePath: string): Promise<{ dirty: boolean; files: string[] }> {
  const out = await git(['--no-optional-locks', 'status', '--porcelain', '-z', '--untracked-files=all'], {
    cwd: worktreePath,
    raw: true,
  });
  const files = parseStatusPaths(out.stdout);
  return { dirty: files.length > 0, files };
}

/**
 * Commits the worktree's uncommitted state (on top of HEAD) without changing the worktree,
 * and returns that commit; null when there is nothing uncommitted. Its message is
 * `ao-console: uncommitted changes of <what>`.
 */
export async function snapshotWorktree(worktreePath: string, what: string): Promise<string | null> {
  const message = `${SNAPSHOT_SUBJECT} of ${what}`;
  const { dirty } = await worktreeStatus(worktreePath);
  if (!dirty) return null;
  const gitDir = (await git(['rev-parse', '--absolute-git-dir'], { cwd: worktreePath })).stdout;
  const head = (await git(['rev-parse', '--verify', 'HEAD^{commit}'], { cwd: worktreePath })).stdout;
  const tmp = await mkdtemp(path.join(tmpdir(), 'ao-snapshot-'));
  try {
    const index = path.join(tmp, 'index');
    await copyFile(path.join(gitDir, 'index'), index).catch(() => undefined);
    const env = { ...IDENTITY, GIT_INDEX_FILE: index };
    await git(['add', '-A', '--', '.'], { cwd: worktreePath, env });
    const tree = (await git(['write-tree'], { cwd: worktreePath, env })).stdout;
    const headTree = (await git(['rev-parse', '--verify', 'HEAD^{tree}'], { cwd: worktreePath })).stdout;
    if (tree === headTree) return null;
    return (await git(['commit-tree', '-p', head, '-m', message, tree], { cwd: worktreePath, env })).stdout;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Commits the files of a directory that is no longer a registered worktree (its files as they are,
 * ignored ones left out, on top of `parent`), using the repository at `commonDir` and a temporary
 * index; null when it holds nothing beyond `parent`. The directory is not touched.
 */
export async function snapshotDirectory(
  commonDir: string,
  dir: string,
  parent: string,
  what: string,
): Promise<string | null> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'ao-snapshot-'));
  try {
    const env = { ...IDENTITY, GIT_INDEX_FILE: path.join(tmp, 'index') };
    const at = [`--git-dir=${commonDir}`, `--work-tree=${dir}`];
    await git([...at, 'read-tree', parent], { cwd: dir, env });
    await git([...at, 'add', '-A', '--', '.'], { cwd: dir, env });
    const tree = (await git([...at, 'write-tree'], { cwd: dir, env })).stdout;
    const parentTree = (await git([...at, 'rev-parse', '--verify', `${parent}^{tree}`], { cwd: dir })).stdout;
    if (tree === parentTree) return null;
    const message = `${SNAPSHOT_SUBJECT} of ${what}`;
    return (await git([...at, 'commit-tree', '-p', parent, '-m', message, tree], { cwd: dir, env })).stdout;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
