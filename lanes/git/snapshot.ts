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

const IDENTITY = {
  GIT_AUTHOR_NAME: 'ao-console',
  GIT_AUTHOR_EMAIL: 'ao-console@localhost',
  GIT_COMMITTER_NAME: 'ao-console',
  GIT_COMMITTER_EMAIL: 'ao-console@localhost',
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
 * and returns that commit; null when there is nothing uncommitted.
 */
export async function snapshotWorktree(worktreePath: string, message: string): Promise<string | null> {
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
