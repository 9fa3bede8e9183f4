/**
 * What happens to a lane's work at handoff: its pending changes become a commit. What it changed
 * against its base is measured in diff.ts. All git goes through git.ts.
 */
import { git, GitError, gitOut } from './git.js';

// The supervisor still imports the measuring from here; lanes/git/diff.ts is their home.
export { diffStat, fullDiff, isEmptyAgainst, type DiffStatRow } from './diff.js';

export interface CommitAuthor {
  name: string;
  email: string;
}

const SUBJECT_MAX = 72;
const FALLBACK_AUTHOR: CommitAuthor = { name: 'ao-console', email: 'ao-console@localhost' };

/** The commit message for a task: its first non-blank line (at most 72 characters), then the whole task. */
export function handoffMessage(task: string): string {
  const text = task.replace(/\r\n?/g, '\n').trim();
  const first =
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  if (first === '') return 'ao: lane handoff';
  const subject = first.length > SUBJECT_MAX ? `${first.slice(0, SUBJECT_MAX - 1).trimEnd()}…` : first;
  return subject === text ? subject : `${subject}\n\n${text}`;
}

/** GIT_AUTHOR_* and GIT_COMMITTER_* for an identity. */
export function identityEnv(author: CommitAuthor): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
}

/** The given author, else the repo's configured identity, else "ao-console <ao-console@localhost>". */
export async function resolveAuthor(cwd: string, author?: CommitAuthor): Promise<CommitAuthor> {
  if (author) return author;
  const name = (await git(['config', '--get', 'user.name'], { cwd, allowFail: true })).stdout.trim();
  const email = (await git(['config', '--get', 'user.email'], { cwd, allowFail: true })).stdout.trim();
  return name && email ? { name, email } : FALLBACK_AUTHOR;
}

/**
 * Stages everything in the worktree (`git add -A`) and commits it if anything is staged.
 * The message is built from the task (see handoffMessage). Hooks are not run (`--no-verify`):
 * validation is the gates' job. Returns the new head, or null when there was nothing to commit.
 * `exclude` (repo-relative paths, taken literally) is left out: what lane setup put in the
 * worktree (a copied `.env`, a `node_modules` link) is never committed.
 */
export async function commitPendingChanges(
  worktree: string,
  opts: { message: string; author?: CommitAuthor; exclude?: readonly string[] },
): Promise<string | null> {
  const exclude = (opts.exclude ?? []).map((p) => `:(exclude,literal)${p}`);
  await git(exclude.length ? ['add', '-A', '--', '.', ...exclude] : ['add', '-A'], { cwd: worktree });
  const staged = await git(['diff', '--cached', '--quiet', '--no-ext-diff'], { cwd: worktree, allowFail: true });
  if (staged.exitCode === 0) return null;
  if (staged.exitCode !== 1) throw new GitError(['diff', '--cached', '--quiet'], staged.exitCode, staged.stderr);
  const author = await resolveAuthor(worktree, opts.author);
  await git(['-c', 'commit.gpgsign=false', 'commit', '--no-verify', '--quiet', '--file=-'], {
    cwd: worktree,
    input: handoffMessage(opts.message),
    env: identityEnv(author),
  });
  return gitOut(['rev-parse', '--verify', 'HEAD'], worktree);
}
