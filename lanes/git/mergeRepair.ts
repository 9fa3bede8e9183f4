/**
 * Finishing a checkout a merge left behind (lanes/git/merge.ts step 5 cut short by a kill): the
 * base branch already points at the merge commit `next`, but the checkout's index is still that of
 * `old` and its files are partly old, partly new (git writes the files first and the index last).
 *
 * inspectCheckout tells the case apart, path by path over what changed between `old` and `next`:
 * each file is either as in `old` (stale), as in `next` (fresh), or neither (a change of the
 * user's: then nothing is touched and the reason is given). finishCheckout moves the index to
 * `next` without touching the files (`git read-tree -m -i <old> <next>`), writes the stale files
 * from it (`git checkout-index -f`), removes those `next` deleted, and refreshes the index: HEAD,
 * index and files then match, and files outside the merge are never touched.
 * checkoutsLeftBehind finds the same state with no intent at all, from the branch's reflog (the
 * console's merges are logged as `ao-console: ...`), for `doctor`.
 */
import { existsSync, lstatSync, readlinkSync, rmdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { git, gitOut } from './git.js';

export interface CheckoutMove {
  checkout: string;
  /** the base branch as a full ref */
  baseRef: string;
  old: string;
  next: string;
}

export type CheckoutState =
  /** HEAD is the base branch and the index is that of `next`: nothing to do */
  | { kind: 'done' }
  /** the checkout is gone or has another branch checked out: nothing of the merge to update there */
  | { kind: 'elsewhere'; detail: string }
  /** the index is that of `old`: `stale` files still to write (or remove: `gone`), `fresh` ones already done */
  | { kind: 'behind'; stale: string[]; gone: string[]; fresh: string[]; lock?: string }
  /** it cannot be finished safely; `detail` says why */
  | { kind: 'blocked'; detail: string; lock?: string };

interface RawChange {
  path: string;
  oldMode: string;
  newMode: string;
  oldSha: string;
  newSha: string;
}

const ZERO = /^0+$/;

async function changes(checkout: string, old: string, next: string): Promise<RawChange[]> {
  const out = (
    await git(['diff', '--raw', '-z', '--no-renames', '--no-abbrev', old, next, '--'], {
      cwd: checkout,
      raw: true,
    })
  ).stdout;
  const fields = out.split('\0');
  const list: RawChange[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const m = /^:(\d+) (\d+) ([0-9a-f]+) ([0-9a-f]+) /.exec(fields[i]);
    if (!m) break;
    list.push({ oldMode: m[1], newMode: m[2], oldSha: m[3], newSha: m[4], path: fields[i + 1] });
  }
  return list;
}

/** The blob and mode the file at `rel` would have if added now; null when absent; 'other' for a directory or the like. */
async function worktreeEntry(checkout: string, rel: string): Promise<{ sha: string; mode: string } | null | 'other'> {
  const abs = path.join(checkout, rel);
  let st;
  try {
    st = lstatSync(abs);
  } catch {
    return null;
  }
  if (st.isSymbolicLink()) {
    const res = await git(['hash-object', '-t', 'blob', '--no-filters', '--stdin'], {
      cwd: checkout,
      input: readlinkSync(abs),
    });
    return { sha: res.stdout.trim(), mode: '120000' };
  }
  if (!st.isFile()) return 'other';
  const res = await git(['hash-object', `--path=${rel}`, '--', rel], { cwd: checkout, allowFail: true });
  if (res.exitCode !== 0) return 'other';
  return { sha: res.stdout.trim(), mode: st.mode & 0o111 ? '100755' : '100644' };
}

function matches(entry: { sha: string; mode: string } | null, mode: string, sha: string): boolean {
  if (ZERO.test(sha)) return entry === null;
  return entry !== null && entry.sha === sha && entry.mode === mode;
}

async function indexIs(checkout: string, commit: string): Promise<boolean> {
  const res = await git(['diff-index', '--cached', '--quiet', commit, '--'], { cwd: checkout, allowFail: true });
  return res.exitCode === 0;
}

async function lockOf(checkout: string): Promise<string | undefined> {
  const p = await gitOut(['rev-parse', '--path-format=absolute', '--git-path', 'index.lock'], checkout);
  return existsSync(p) ? p : undefined;
}

export async function inspectCheckout(move: CheckoutMove): Promise<CheckoutState> {
  const { checkout, baseRef, old, next } = move;
  if (!existsSync(checkout)) return { kind: 'elsewhere', detail: `${checkout} no longer exists` };
  const head = await git(['symbolic-ref', '-q', 'HEAD'], { cwd: checkout, allowFail: true });
  if (head.stdout.trim() !== baseRef)
    return { kind: 'elsewhere', detail: `${checkout} has ${head.stdout.trim() || 'a detached HEAD'} checked out` };
  const lock = await lockOf(checkout);
  if (await indexIs(checkout, next)) return { kind: 'done' };
  if (!(await indexIs(checkout, old)))
    return {
      kind: 'blocked',
      lock,
      detail: `the index of ${checkout} matches neither ${old.slice(0, 12)} nor ${next.slice(0, 12)} (changes staged since?)`,
    };
  const stale: string[] = [];
  const gone: string[] = [];
  const fresh: string[] = [];
  const own: string[] = [];
  for (const c of await changes(checkout, old, next)) {
    if (c.oldMode === '160000' || c.newMode === '160000') {
      own.push(c.path); // a submodule: not ours to write
      continue;
    }
    const entry = await worktreeEntry(checkout, c.path);
    if (entry === 'other') own.push(c.path);
    else if (matches(entry, c.newMode, c.newSha)) fresh.push(c.path);
    else if (matches(entry, c.oldMode, c.oldSha)) (ZERO.test(c.newSha) ? gone : stale).push(c.path);
    else own.push(c.path);
  }
  if (own.length)
    return {
      kind: 'blocked',
      lock,
      detail: `files of ${checkout} changed since the merge began: ${own.slice(0, 5).join(', ')}${own.length > 5 ? ', …' : ''}`,
    };
  return { kind: 'behind', stale, gone, fresh, lock };
}

function removeEmptyParents(checkout: string, rel: string): void {
  let dir = path.dirname(path.join(checkout, rel));
  while (dir.startsWith(checkout + path.sep)) {
    try {
      rmdirSync(dir);
    } catch {
      return; // not empty (or gone)
    }
    dir = path.dirname(dir);
  }
}

export interface FinishResult {
  state: CheckoutState;
  /** what was done, in a sentence; null when nothing was needed or possible */
  did: string | null;
}

/**
 * Finishes the move of `checkout` from `old` to `next` when inspectCheckout finds it behind.
 * A lock on the index blocks it unless `removeLock` says that lock is the killed merge's own
 * (the caller knows: the merge's process is gone and the lock dates from its checkout update).
 */
export async function finishCheckout(
  move: CheckoutMove,
  opts: { removeLock?: (lock: string) => boolean } = {},
): Promise<FinishResult> {
  const state = await inspectCheckout(move);
  if (state.kind !== 'behind') return { state, did: null };
  const notes: string[] = [];
  if (state.lock) {
    if (!opts.removeLock?.(state.lock))
      return {
        state: {
          kind: 'blocked',
          lock: state.lock,
          detail: `${state.lock} exists: remove it if no git process runs in ${move.checkout}`,
        },
        did: null,
      };
    rmSync(state.lock, { force: true });
    notes.push(`removed the killed merge's ${path.basename(state.lock)}`);
  }
  const { checkout, old, next } = move;
  await git(['read-tree', '-m', '-i', old, next], { cwd: checkout });
  const toWrite = state.stale;
  const toRemove = state.gone;
  if (toWrite.length)
    await git(['checkout-index', '-f', '-q', '-z', '--stdin'], { cwd: checkout, input: toWrite.join('\0') });
  for (const p of toRemove) {
    rmSync(path.join(checkout, p), { force: true });
    removeEmptyParents(checkout, p);
  }
  await git(['update-index', '-q', '--refresh'], { cwd: checkout, allowFail: true });
  const after = await inspectCheckout(move);
  notes.push(
    `moved the checkout at ${checkout} to ${next.slice(0, 12)} (index updated; ${toWrite.length} file(s) written, ${toRemove.length} removed, ${state.fresh.length} already written)`,
  );
  return { state: after, did: notes.join('; ') };
}

/** The modification time (ms) of a file, or null. */
export function mtimeOf(file: string): number | null {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * Checkouts whose branch the console moved (its last reflog entry is an `ao-console:` merge) while
 * their index still has the branch's previous commit: the state a kill after the ref moved leaves.
 */
export async function checkoutsLeftBehind(repoRoot: string): Promise<CheckoutMove[]> {
  const out = await gitOut(['worktree', 'list', '--porcelain', '-z'], repoRoot);
  const found: CheckoutMove[] = [];
  let wt: string | undefined;
  for (const field of out.split('\0')) {
    if (field.startsWith('worktree ')) wt = field.slice('worktree '.length);
    else if (field.startsWith('branch ') && wt && existsSync(wt)) {
      const baseRef = field.slice('branch '.length);
      const log = await git(['reflog', 'show', '-n', '1', '--format=%gs', baseRef, '--'], {
        cwd: repoRoot,
        allowFail: true,
      });
      const subject = log.stdout.trim();
      if (!subject.startsWith('ao-console: ') || subject.endsWith('(rolled back)')) continue;
      const next = await git(['rev-parse', '--verify', '--quiet', baseRef], { cwd: repoRoot, allowFail: true });
      const old = await git(['rev-parse', '--verify', '--quiet', `${baseRef}@{1}`], { cwd: repoRoot, allowFail: true });
      if (next.exitCode !== 0 || old.exitCode !== 0) continue;
      const move = { checkout: wt, baseRef, old: old.stdout.trim(), next: next.stdout.trim() };
      if (!(await indexIs(wt, move.next)) && (await indexIs(wt, move.old))) found.push(move);
    }
  }
  return found;
}

/**
 * Where a journaled merge got to, read off the base ref: `moved` when the ref is at `next` (or
 * moved on from it: someone committed on top), `not-moved` when it is still at `old` (or went
 * elsewhere without the merge: the merge never happened as far as the base is concerned).
 */
export async function mergeReached(
  repoRoot: string,
  move: { baseRef: string; old: string; next: string },
): Promise<{ reached: boolean; tip: string | null }> {
  const res = await git(['rev-parse', '--verify', '--quiet', `${move.baseRef}^{commit}`], {
    cwd: repoRoot,
    allowFail: true,
  });
  const tip = res.exitCode === 0 ? res.stdout.trim() : null;
  if (!tip || tip === move.old) return { reached: false, tip };
  if (tip === move.next) return { reached: true, tip };
  const anc = await git(['merge-base', '--is-ancestor', move.next, tip], { cwd: repoRoot, allowFail: true });
  return { reached: anc.exitCode === 0, tip };
}
