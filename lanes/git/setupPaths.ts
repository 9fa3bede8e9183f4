/**
 * What lane setup (lanes/supervisor/laneSetup.ts) asks git about a lane's worktree: which setup
 * paths git tracks (those are never overwritten), and what is untracked after setup (what setup
 * added, kept out of the handoff commit: handoffCommit.ts `exclude`).
 */
import { git } from './git.js';

/** The paths of `paths` (repo-relative) that git tracks in the worktree, or that hold tracked files. */
export async function trackedPaths(worktree: string, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const out = await git(['--literal-pathspecs', 'ls-files', '-z', '--', ...paths], { cwd: worktree });
  const files = out.stdout.split('\0').filter(Boolean);
  return new Set(paths.filter((p) => files.some((f) => f === p || f.startsWith(`${p}/`))));
}

/**
 * Untracked files that are not ignored, an untracked directory as one entry (`dir`, no trailing
 * slash), repo-relative.
 */
export async function untrackedPaths(worktree: string): Promise<string[]> {
  const out = await git(['ls-files', '-z', '--others', '--exclude-standard', '--directory'], { cwd: worktree });
  return out.stdout
    .split('\0')
    .filter(Boolean)
    .map((p) => p.replace(/\/$/, ''));
}
