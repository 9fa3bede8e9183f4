/**
 * What happens to a lane's work at handoff: its pending changes become a commit, and what it
 * changed against its base is measured (diff stat, full diff, emptiness). All git goes through git.ts.
 */
import { git, GitError, gitOut } from './git.js';
import type { DiffStatEntry } from '../supervisor/api.js';

export interface CommitAuthor {
  name: string;
  email: string;
}

/** A diff stat row; binary files count as 0/0 with `binary` set; renames carry `oldPath`. */
export interface DiffStatRow extends DiffStatEntry {
  binary?: boolean;
  oldPath?: string;
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
 */
export async function commitPendingChanges(
  worktree: string,
  opts: { message: string; author?: CommitAuthor },
): Promise<string | null> {
  await git(['add', '-A'], { cwd: worktree });
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

/** `base...head`: what head changed since it forked from base. */
function range(base: string, head: string): string {
  return `${base}...${head}`;
}

/** Parses `git diff --numstat -z` output. */
export function parseNumstatZ(out: string): DiffStatRow[] {
  const rows: DiffStatRow[] = [];
  const fields = out.split('\0');
  let i = 0;
  while (i < fields.length) {
    const rec = fields[i++];
    if (rec === '' || rec === '\n') continue;
    const m = /^\n?(-|\d+)\t(-|\d+)\t(.*)$/s.exec(rec);
    if (!m) continue;
    const binary = m[1] === '-' && m[2] === '-';
    const row: DiffStatRow = { path: m[3], added: binary ? 0 : Number(m[1]), deleted: binary ? 0 : Number(m[2]) };
    if (m[3] === '') {
      // a rename or copy: the old and the new path follow as their own fields
      row.oldPath = fields[i++];
      row.path = fields[i++];
    }
    if (binary) row.binary = true;
    rows.push(row);
  }
  return rows;
}

/** Per-file added/deleted line counts of `base...head`. */
export async function diffStat(repoRoot: string, base: string, head: string): Promise<DiffStatRow[]> {
  const out = await git(['diff', '--numstat', '-z', '-M', '--no-ext-diff', '--no-textconv', range(base, head), '--'], {
    cwd: repoRoot,
    raw: true,
  });
  return parseNumstatZ(out.stdout);
}

/** The full diff of `base...head`, git's own colour-free text. */
export async function fullDiff(repoRoot: string, base: string, head: string): Promise<string> {
  const out = await git(['diff', '--no-color', '--no-ext-diff', '--no-textconv', '-M', range(base, head), '--'], {
    cwd: repoRoot,
    raw: true,
  });
  return out.stdout;
}

/** True when head's tree is the same as at its merge-base with base (the lane changed nothing). */
export async function isEmptyAgainst(repoRoot: string, base: string, head: string): Promise<boolean> {
  const args = ['diff', '--quiet', '--no-ext-diff', '--no-textconv', range(base, head), '--'];
  const res = await git(args, { cwd: repoRoot, allowFail: true });
  if (res.exitCode === 0) return true;
  if (res.exitCode === 1) return false;
  throw new GitError(args, res.exitCode, res.stderr);
}
