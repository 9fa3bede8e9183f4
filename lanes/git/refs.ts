/**
 * Commits and refs: resolving revisions, ahead counts, ancestry, and the archive refs
 * (`refs/ao/archive/<lane>/<timestamp>`) that keep a lane's commits reachable after its
 * branch is reset or deleted. Archive refs are ordinary refs, so `git gc` never drops what
 * they point to; list them with `git for-each-ref refs/ao/archive/`.
 */
import { git, GitError } from './git.js';
import { gitRetrying } from './gitRetry.js';
import { validateLaneName } from '../lane/names.js';

export const ARCHIVE_PREFIX = 'refs/ao/archive';

/** Thrown for a revision argument that could be read as an option or is not text git can parse. */
export class RevisionArgError extends Error {
  constructor(what: string, rev: string) {
    super(
      `invalid ${what} ${JSON.stringify(rev)}: must be non-empty, not start with "-", and hold no control characters`,
    );
    this.name = 'RevisionArgError';
  }
}

/**
 * Rejects revision text that could be taken for an option (leading "-") or that holds control
 * characters. Shell syntax is fine: git is always called with an argv array, never a shell.
 */
export function validateRevisionArg(rev: string, what = 'revision'): string {
  if (rev === '' || rev.startsWith('-') || /[\0-\x1f\x7f]/.test(rev)) throw new RevisionArgError(what, rev);
  return rev;
}

/** The commit `rev` names, or null when it names none. */
export async function resolveCommit(dir: string, rev: string): Promise<string | null> {
  validateRevisionArg(rev);
  const res = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], {
    cwd: dir,
    allowFail: true,
  });
  return res.exitCode === 0 && res.stdout ? res.stdout : null;
}

/** The commit `ref` names (default HEAD); throws when there is none. */
export async function headCommit(dir: string, ref = 'HEAD'): Promise<string> {
  const sha = await resolveCommit(dir, ref);
  if (!sha) throw new Error(`${JSON.stringify(ref)} does not name a commit in ${dir}`);
  return sha;
}

/** The commit a local branch points at, or null when the branch does not exist. */
export async function branchTip(repoRoot: string, branch: string): Promise<string | null> {
  return resolveCommit(repoRoot, `refs/heads/${validateRevisionArg(branch, 'branch')}`);
}

/** How many commits `branch` has that `base` does not (`git rev-list --count base..branch`). */
export async function commitsAhead(repoRoot: string, base: string, branch: string): Promise<number> {
  validateRevisionArg(base, 'base');
  validateRevisionArg(branch, 'branch');
  const out = (await git(['rev-list', '--count', '--end-of-options', `${base}..${branch}`, '--'], { cwd: repoRoot }))
    .stdout;
  return Number.parseInt(out, 10);
}

/** Whether commit `a` is reachable from `b` (a == b counts). */
export async function isAncestor(repoRoot: string, a: string, b: string): Promise<boolean> {
  validateRevisionArg(a);
  validateRevisionArg(b);
  const res = await git(['merge-base', '--is-ancestor', a, b], { cwd: repoRoot, allowFail: true });
  if (res.exitCode === 0) return true;
  if (res.exitCode === 1) return false;
  throw new GitError(['merge-base', '--is-ancestor', a, b], res.exitCode, res.stderr);
}

/** `20250131T235959Z`: sortable, and valid in a ref name (no ":"). */
export function archiveStamp(now: Date = new Date()): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/**
 * Points a new ref `refs/ao/archive/<lane>/<timestamp>` at `commit` and returns its name.
 * The ref is created only if absent (update-ref with an empty old value), so an existing
 * archive is never overwritten; a second archive in the same second gets a `-2`, `-3`… suffix.
 */
export async function archiveRef(
  repoRoot: string,
  lane: string,
  commit: string,
  now: Date = new Date(),
): Promise<string> {
  validateLaneName(lane);
  const sha = await headCommit(repoRoot, commit);
  const stamp = archiveStamp(now);
  for (let n = 1; n < 100; n++) {
    const ref = `${ARCHIVE_PREFIX}/${lane}/${stamp}${n === 1 ? '' : `-${n}`}`;
    const res = await gitRetrying(['update-ref', '-m', `ao-console: archive lane ${lane}`, '--', ref, sha, ''], {
      cwd: repoRoot,
      allowFail: true,
    });
    if (res.exitCode === 0) return ref;
    if (!/already exists/.test(res.stderr)) {
      throw new GitError(['update-ref', '--', ref, sha, ''], res.exitCode, res.stderr);
    }
  }
  throw new Error(`could not find a free archive ref name under ${ARCHIVE_PREFIX}/${lane}/${stamp}`);
}

/** Archive refs of a lane, oldest first, with the commit each points at. */
export async function listArchiveRefs(repoRoot: string, lane: string): Promise<{ ref: string; commit: string }[]> {
  validateLaneName(lane);
  const out = await git(
    ['for-each-ref', '--sort=refname', '--format=%(refname) %(objectname)', `${ARCHIVE_PREFIX}/${lane}/`],
    { cwd: repoRoot },
  );
  return out.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [ref, commit] = l.split(' ');
      return { ref, commit };
    });
}
