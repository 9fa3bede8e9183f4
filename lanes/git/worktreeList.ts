/**
 * Pure parsers for `git worktree list --porcelain -z` and `git status --porcelain -z`.
 * No I/O here, so they are tested alone on literal git output.
 */

/** One worktree as git reports it. */
export interface WorktreeEntry {
  /** absolute path, as git stored it (git stores the real path) */
  path: string;
  /** checked-out commit; null for a bare repo */
  head: string | null;
  /** short branch name (`ao/x`), null when detached or bare */
  branch: string | null;
  bare: boolean;
  detached: boolean;
  locked: boolean;
  /** the reason given to `git worktree lock --reason`; '' when locked without one */
  lockReason: string | null;
  /** git would prune it (its directory or gitdir is gone) */
  prunable: boolean;
  prunableReason: string | null;
}

/** Parses `git worktree list --porcelain -z`: NUL-terminated lines, records separated by an empty line. */
export function parseWorktreeList(out: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  let cur: WorktreeEntry | null = null;
  for (const line of out.split('\0')) {
    if (line === '') {
      if (cur) entries.push(cur);
      cur = null;
      continue;
    }
    const space = line.indexOf(' ');
    const key = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? null : line.slice(space + 1);
    if (key === 'worktree') {
      if (cur) entries.push(cur);
      cur = {
        path: value ?? '',
        head: null,
        branch: null,
        bare: false,
        detached: false,
        locked: false,
        lockReason: null,
        prunable: false,
        prunableReason: null,
      };
      continue;
    }
    if (!cur) continue;
    switch (key) {
      case 'HEAD':
        cur.head = value;
        break;
      case 'branch':
        cur.branch = value?.replace(/^refs\/heads\//, '') ?? null;
        break;
      case 'bare':
        cur.bare = true;
        break;
      case 'detached':
        cur.detached = true;
        break;
      case 'locked':
        cur.locked = true;
        cur.lockReason = value ?? '';
        break;
      case 'prunable':
        cur.prunable = true;
        cur.prunableReason = value ?? '';
        break;
      default:
        break; // fields added by later git versions are ignored
    }
  }
  if (cur) entries.push(cur);
  return entries;
}

/**
 * Paths named by `git status --porcelain -z`. Each entry is `XY path`; a rename or copy
 * (X or Y is R or C) is followed by one more NUL-terminated field, the original path, which is skipped.
 */
export function parseStatusPaths(out: string): string[] {
  const fields = out.split('\0');
  const files: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.length < 4) continue;
    const xy = f.slice(0, 2);
    files.push(f.slice(3));
    if (/[RC]/.test(xy)) i++;
  }
  return files;
}
