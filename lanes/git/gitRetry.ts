/**
 * Retrying the git failures that only mean "another git process is busy here right now".
 *
 * git takes its locks with O_EXCL and gives up at once when one is taken (`Unable to create
 * '….lock': File exists`); and while one `git worktree add` writes a new worktree's admin files,
 * a second git that lists the worktrees can read a `commondir` that exists but is still empty
 * (`fatal: failed to read …/worktrees/<x>/commondir`). Both pass when the other process is done.
 * The console's own worktree operations never overlap (worktreeLock.ts); these retries are for
 * git processes outside it (an agent, the operator, another tool). Anything else fails at once.
 */
import { git, GitError, type GitOptions, type GitResult } from './git.js';

/** What git prints when the failure is a lock or admin file another git process holds or is writing. */
const TRANSIENT: RegExp[] = [
  /Unable to create '[^']*\.lock': File exists/,
  /[Aa]nother git process seems to be running/,
  /failed to read [^\n]*\/commondir/,
  /could not lock config file/,
  /cannot (?:remove|move) a locked working tree, lock reason: initializing/,
];

/** Whether git's stderr says the command failed only because another git process holds a lock. */
export function isTransientLockFailure(stderr: string): boolean {
  return TRANSIENT.some((re) => re.test(stderr));
}

export interface RetryOptions {
  /** attempts in all, the first included (default 7: about 3 s of waiting) */
  attempts?: number;
  /** wait before the second attempt, doubled after each (default 50 ms) */
  firstDelayMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs git like git(), retrying with backoff (50, 100, 200 … ms, with jitter) while it fails
 * with a transient lock failure. The last failure is thrown (or returned, with allowFail) as is.
 */
export async function gitRetrying(
  args: readonly string[],
  opts: GitOptions,
  retry: RetryOptions = {},
): Promise<GitResult> {
  const attempts = Math.max(1, retry.attempts ?? 7);
  let delay = retry.firstDelayMs ?? 50;
  for (let i = 1; ; i++) {
    const res = await git(args, { ...opts, allowFail: true });
    if (res.exitCode === 0) return res;
    if (i >= attempts || !isTransientLockFailure(res.stderr)) {
      if (opts.allowFail) return res;
      throw new GitError(args, res.exitCode, res.stderr);
    }
    await sleep(delay + Math.floor(Math.random() * delay));
    delay *= 2;
  }
}
