/**
 * The repository itself: where it is (top level, common dir, git dir), which branch is checked
 * out, which git runs, and creating a new one (the demo project).
 */
import { git } from './git.js';
import { validateRevisionArg } from './refs.js';

export interface RepoDirs {
  /** top level of the worktree `dir` is in (in a linked worktree: that worktree) */
  root: string;
  /** git's common dir, shared by all worktrees */
  commonDir: string;
  /** this worktree's own git dir (holds its index) */
  gitDir: string;
}

const DIRS = ['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir', '--absolute-git-dir'];

function parseDirs(stdout: string): RepoDirs {
  const [root, commonDir, gitDir] = stdout.split('\n');
  return { root, commonDir, gitDir };
}

/** The repository `dir` is in, as absolute paths; null when `dir` is not inside a work tree. */
export async function findRepo(dir: string): Promise<RepoDirs | null> {
  const res = await git(DIRS, { cwd: dir, allowFail: true });
  return res.exitCode === 0 ? parseDirs(res.stdout) : null;
}

/** Like findRepo, but a directory outside a repository is an error (with git's own message). */
export async function repoDirs(dir: string): Promise<RepoDirs> {
  return parseDirs((await git(DIRS, { cwd: dir })).stdout);
}

/** The branch checked out in `dir` (short name), or null on a detached HEAD. */
export async function currentBranch(dir: string): Promise<string | null> {
  const res = await git(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: dir, allowFail: true });
  return res.exitCode === 0 ? res.stdout.trim() : null;
}

/** What `git --version` prints, or why git did not run (its stderr; '' when it said nothing). */
export async function gitVersion(): Promise<{ version: string } | { error: string }> {
  const res = await git(['--version'], { cwd: process.cwd(), allowFail: true });
  return res.exitCode === 0 ? { version: res.stdout } : { error: res.stderr };
}

/** Creates a repository in `dir` (which must exist) on `branch`, with these config values set in it. */
export async function initRepo(dir: string, opts: { branch: string; config?: Record<string, string> }): Promise<void> {
  await git(['init', '-q', '-b', validateRevisionArg(opts.branch, 'branch')], { cwd: dir });
  for (const [key, value] of Object.entries(opts.config ?? {})) await git(['config', key, value], { cwd: dir });
}
