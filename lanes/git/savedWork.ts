/**
 * Where a lane's saved work is and how to get it back: the archive refs
 * `refs/ao/archive/<lane>/<timestamp>` that worktree removal (worktreeRetire.ts) writes before a
 * branch is deleted or a worktree removed. Each holds either the lane's commits (its branch tip)
 * or a snapshot commit of its uncommitted files (snapshot.ts: authored by ao-console, parent the
 * worktree's HEAD), which `ao-console show` reports with the commands that restore it.
 */
import { git } from './git.js';
import { ARCHIVE_PREFIX } from './refs.js';
import { SNAPSHOT_EMAIL, SNAPSHOT_SUBJECT } from './snapshot.js';
import { validateLaneName } from '../lane/names.js';

export interface SavedWork {
  ref: string;
  commit: string;
  /** when it was saved (from the ref name), epoch ms; null when the name has no timestamp */
  at: number | null;
  /** `uncommitted`: a snapshot of the worktree's uncommitted and untracked files; `commits`: the branch's commits */
  kind: 'uncommitted' | 'commits';
  /** for a snapshot: the files it changed against the commit it was made on (`M path`, `A path`, `D path`) */
  files: string[];
  /** shell commands, run in the repo, that bring the work back on a new branch */
  restore: string;
}

/** `20261201T083000Z` (and `-2` suffixes) → epoch ms. */
export function parseArchiveStamp(ref: string): number | null {
  const m = /\/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-\d+)?$/.exec(ref);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

/** The commands that restore a saved ref on a new branch `<lane>-rescue`. */
export function restoreCommand(lane: string, ref: string, kind: SavedWork['kind']): string {
  const branch = `${lane}-rescue`;
  return kind === 'uncommitted'
    ? `git checkout -b ${branch} ${ref} && git reset HEAD~1` // the files come back uncommitted
    : `git checkout -b ${branch} ${ref}`;
}

/** The saved work of lanes named `lane`, oldest first. */
export async function listSavedWork(repoRoot: string, lane: string): Promise<SavedWork[]> {
  validateLaneName(lane);
  const out = await git(
    [
      'for-each-ref',
      '--sort=refname',
      '--format=%(refname)%00%(objectname)%00%(authoremail)%00%(subject)',
      `${ARCHIVE_PREFIX}/${lane}/`,
    ],
    { cwd: repoRoot },
  );
  const saved: SavedWork[] = [];
  for (const line of out.stdout.split('\n').filter(Boolean)) {
    const [ref, commit, email, subject] = line.split('\0');
    const kind = email === `<${SNAPSHOT_EMAIL}>` && subject.startsWith(SNAPSHOT_SUBJECT) ? 'uncommitted' : 'commits';
    const files = kind === 'uncommitted' ? await snapshotFiles(repoRoot, commit) : [];
    saved.push({ ref, commit, at: parseArchiveStamp(ref), kind, files, restore: restoreCommand(lane, ref, kind) });
  }
  return saved;
}

/** The files a snapshot commit changed against its parent, as `X path`. */
async function snapshotFiles(repoRoot: string, commit: string): Promise<string[]> {
  const out = await git(['diff-tree', '-r', '--no-commit-id', '--no-renames', '--name-status', '-z', commit], {
    cwd: repoRoot,
    raw: true,
  });
  const fields = out.stdout.split('\0').filter(Boolean);
  const files: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) files.push(`${fields[i]} ${fields[i + 1]}`);
  return files;
}
