/**
 * The repository itself: where it is (top level, common dir, git dir), which branch is checked
 * out, which git runs, and creating a new one (the demo project).
 */
import { existsSync } from 'node:fs';
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

/** The git dir when `dir` is a bare repository or inside one, else null. */
export async function bareRepoAt(dir: string): Promise<string | null> {
  const res = await git(['rev-parse', '--path-format=absolute', '--is-bare-repository', '--absolute-git-dir'], {
    cwd: dir,
    allowFail: true,
  });
  if (res.exitCode !== 0) return null;
  const [bare, gitDir] = res.stdout.split('\n');
  return bare === 'true' ? gitDir : null;
}

/** What keeps a repository from taking lanes, in one sentence with the next step. */
export interface RepoProblem {
  kind: 'no-commits' | 'in-progress' | 'detached';
  message: string;
}

/** What can leave HEAD detached on purpose: its marker in the git dir, its name, how to end it. */
const IN_PROGRESS: Array<[string, string, string]> = [
  ['rebase-merge', 'a rebase', 'git rebase --continue` or `git rebase --abort'],
  ['rebase-apply', 'a rebase', 'git rebase --continue` or `git rebase --abort'],
  ['BISECT_LOG', 'a bisect', 'git bisect reset'],
];

/**
 * Whether lanes can start from the checkout at `root` (a repo's main working tree): it has a
 * commit to branch from, and a branch to be the base, checked out or named by `baseBranch` (the
 * repo config's). A detached HEAD is explained by what detached it (a rebase or a bisect under
 * way) when that is the cause. A merge, cherry-pick or revert under way on a branch does not stop
 * lanes: approving one is refused, with that reason, until it is finished (lanes/git/merge.ts).
 * Null when lanes can start.
 */
export async function laneReadiness(root: string, opts: { baseBranch?: string } = {}): Promise<RepoProblem | null> {
  const head = await git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { cwd: root, allowFail: true });
  const branch = await currentBranch(root);
  if (head.exitCode !== 0) {
    return {
      kind: 'no-commits',
      message:
        `${root} has no commits yet${branch ? ` (branch ${branch} is unborn)` : ''}, and lanes branch off a commit: ` +
        'make the first one (`git add -A && git commit -m "first commit"`), then run ao-console again.',
    };
  }
  if (branch || opts.baseBranch) return null;
  for (const [marker, what, next] of IN_PROGRESS) {
    const p = (await git(['rev-parse', '--path-format=absolute', '--git-path', marker], { cwd: root })).stdout;
    if (existsSync(p))
      return {
        kind: 'in-progress',
        message:
          `${root} is in the middle of ${what} (HEAD is detached), so there is no branch for lanes to start from and merge into: ` +
          `finish it or stop it (\`${next}\`), then run ao-console again.`,
      };
  }
  const at = head.stdout.trim().slice(0, 12);
  return {
    kind: 'detached',
    message:
      `${root} has a detached HEAD (at ${at}), so there is no branch for lanes to start from and merge into: ` +
      'check out a branch (`git switch main`), or name one as "baseBranch" in .ao/config.json, then run ao-console again.',
  };
}
