/**
 * Merges an approved lane's branch into its base without ever leaving a checkout half-merged.
 * Designed like git's own merge: intent first, the ref move as the commit point, then the checkout.
 *
 * 1. The result commit is computed with no checkout at all: `git merge-tree --write-tree` gives
 *    the merged tree or the conflicting paths (MergeConflictError: nothing was touched), then
 *    `git commit-tree` makes the commit (two parents for `merge`, one for `squash`); `ff-only`
 *    takes the lane head itself when the base is its ancestor (else NotFastForwardError).
 * 2. If the base branch is checked out in a worktree (usually the repo's main one), the paths the
 *    merge changes must have no local changes there, as `git merge` asks (DirtyCheckoutError lists
 *    them; changes elsewhere stay and are carried over), with no merge/rebase/cherry-pick in
 *    progress and no `index.lock` held by another git (IndexLockedError).
 * 3. With `journal`, the intent (lane, ref, old and new commit, checkout) is written durably to the
 *    state dir (lanes/git/mergeIntent.ts) before anything moves.
 * 4. The branch is advanced with `git update-ref <ref> <new> <old>`, a compare-and-swap and the
 *    commit point (BaseMovedError if someone moved it meanwhile; RefUpdateRefusedError when a
 *    reference-transaction hook or a ref lock refused; either way nothing was touched).
 * 5. The checkout is then moved from <old> to <new> with `git read-tree -m -u <old> <new>`, the
 *    two-tree "switch" git checkout itself uses: it checks every path before writing any, updates
 *    the index and the files to exactly <new>, and never creates MERGE_HEAD. If it refuses, the
 *    branch is put back to <old> and the checkout is as it was (CheckoutUpdateError).
 * A failure clears the intent; success leaves it for the caller to clear once the lane is
 * recorded merged. A process killed between 3 and that is finished or rolled back by the next
 * start (lanes/supervisor/mergeRecovery.ts, using lanes/git/mergeRepair.ts).
 * A `merge` always makes a merge commit (no fast-forward), so every lane stays visible in history.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { git, GitError, gitOut } from './git.js';
import { identityEnv, resolveAuthor, type CommitAuthor } from './handoffCommit.js';
import { validateRevisionArg } from './refs.js';
import { clearMergeIntent, writeMergeIntent } from './mergeIntent.js';
import { pausePoint } from './pausePoint.js';

export type MergeStrategyName = 'merge' | 'squash' | 'ff-only';

export interface MergeLaneOptions {
  /** the repo's main working tree (any path in the repo works) */
  repoRoot: string;
  /** the base branch name (`main`) or full ref (`refs/heads/main`) */
  base: string;
  /** the lane's branch (`ao/<lane>`) or full ref */
  branch: string;
  strategy: MergeStrategyName;
  /** the merge or squash commit's message (unused by ff-only) */
  message: string;
  /** author and committer of the new commit; default: the repo's identity */
  author?: CommitAuthor;
  /** journal the merge: its intent is written to `<stateDir>/merge-intents/` before the base moves */
  journal?: { stateDir: string; lane: string; laneId: number };
  /**
   * land exactly this result (the merge queue validated it: lanes/git/landing.ts): BaseMovedError
   * when the base is no longer at `old`, LaneMovedError when the branch is no longer at `laneHead`
   */
  prepared?: { old: string; laneHead: string; next: string };
}

export interface MergeResult {
  /** the base branch's new head */
  commit: string;
  /** the base branch's head before */
  previous: string;
  /** false when the lane had nothing the base did not already have */
  changed: boolean;
  /** the worktree that had the base checked out and was updated, if any */
  checkout?: string;
  /** the intent file, left for the caller to clear (clearMergeIntent) once the lane is recorded merged */
  intent?: string;
}

export class MergeConflictError extends Error {
  constructor(
    readonly base: string,
    readonly branch: string,
    readonly paths: string[],
  ) {
    super(`${branch} conflicts with ${base} in ${paths.length} path(s): ${paths.join(', ')}`);
    this.name = 'MergeConflictError';
  }
}

export class DirtyCheckoutError extends Error {
  constructor(
    readonly checkout: string,
    readonly files: string[],
    readonly reason = 'has uncommitted changes',
  ) {
    super(
      `the checkout of the base at ${checkout} ${reason}${files.length ? `: ${files.join(', ')}; commit or stash them first` : '; finish or abort it first'}`,
    );
    this.name = 'DirtyCheckoutError';
  }
}

export class NotFastForwardError extends Error {
  constructor(
    readonly base: string,
    readonly branch: string,
  ) {
    super(
      `${base} cannot be fast-forwarded to ${branch}: ${base} has commits the lane does not (rebase the lane, or use the merge or squash strategy)`,
    );
    this.name = 'NotFastForwardError';
  }
}

export class BaseMovedError extends Error {
  constructor(
    readonly base: string,
    readonly expected: string,
  ) {
    super(
      `${base} moved while the merge was prepared (expected ${expected.slice(0, 12)}); nothing was changed, try again`,
    );
    this.name = 'BaseMovedError';
  }
}

export class LaneMovedError extends Error {
  constructor(
    readonly branch: string,
    readonly expected: string,
  ) {
    super(
      `${branch} moved after it was validated (expected ${expected.slice(0, 12)}); nothing was changed: re-run its gates and approve it again`,
    );
    this.name = 'LaneMovedError';
  }
}

export class IndexLockedError extends Error {
  constructor(readonly lock: string) {
    super(
      `the index of the base's checkout is locked (${lock} exists): another git process is running, or one crashed; remove the file if no git process runs, then approve again`,
    );
    this.name = 'IndexLockedError';
  }
}

export class RefUpdateRefusedError extends Error {
  constructor(
    readonly base: string,
    readonly reason: string,
  ) {
    super(`git refused to move ${base} (${reason || 'no message'}); nothing was changed`);
    this.name = 'RefUpdateRefusedError';
  }
}

export class CheckoutUpdateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckoutUpdateError';
  }
}

const qualify = (name: string) => (name.startsWith('refs/') ? name : `refs/heads/${name}`);
const short = (ref: string) => ref.replace(/^refs\/heads\//, '');

async function resolveCommit(repoRoot: string, ref: string): Promise<string> {
  const res = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: repoRoot, allowFail: true });
  if (res.exitCode !== 0) throw new Error(`no branch ${short(ref)} in ${repoRoot}`);
  return res.stdout.trim();
}

async function isAncestor(repoRoot: string, a: string, b: string): Promise<boolean> {
  const args = ['merge-base', '--is-ancestor', a, b];
  const res = await git(args, { cwd: repoRoot, allowFail: true });
  if (res.exitCode === 0) return true;
  if (res.exitCode === 1) return false;
  throw new GitError(args, res.exitCode, res.stderr);
}

export type MergeTreeResult = { clean: true; tree: string } | { clean: false; tree: string; paths: string[] };

/**
 * The tree a merge of `ours` and `theirs` would produce, or the paths that conflict: asked of
 * `git merge-tree --write-tree` (git >= 2.38), which touches no checkout and no index. The
 * merge-clean gate (lanes/gates/mergeClean.ts) asks it too.
 */
export async function mergeTree(repoRoot: string, ours: string, theirs: string): Promise<MergeTreeResult> {
  validateRevisionArg(ours);
  validateRevisionArg(theirs);
  const args = ['merge-tree', '--write-tree', '--name-only', '--no-messages', '-z', ours, theirs];
  const res = await git(args, { cwd: repoRoot, allowFail: true, raw: true });
  if (res.exitCode !== 0 && res.exitCode !== 1) throw new GitError(args, res.exitCode, res.stderr);
  const fields = res.stdout.split('\0');
  const tree = fields[0].trim();
  if (res.exitCode === 0) return { clean: true, tree };
  // With --name-only -z the conflicted paths follow the tree id, one per field, until an empty field.
  const paths: string[] = [];
  for (const f of fields.slice(1)) {
    if (f === '') break;
    if (!paths.includes(f)) paths.push(f);
  }
  return { clean: false, tree, paths };
}

/** The worktree (main or linked) that has `ref` checked out, if any. */
export async function findCheckout(repoRoot: string, ref: string): Promise<string | undefined> {
  const out = await gitOut(['worktree', 'list', '--porcelain', '-z'], repoRoot);
  let current: { path?: string; branch?: string; prunable?: boolean } = {};
  const records: (typeof current)[] = [];
  for (const field of out.split('\0')) {
    if (field === '') {
      if (current.path) records.push(current);
      current = {};
    } else if (field.startsWith('worktree ')) current.path = field.slice('worktree '.length);
    else if (field.startsWith('branch ')) current.branch = field.slice('branch '.length);
    else if (field.startsWith('prunable')) current.prunable = true;
  }
  if (current.path) records.push(current);
  return records.find((r) => r.branch === ref && !r.prunable)?.path;
}

/**
 * Parses `git status --porcelain=v1 -z` into [status, path] pairs. A rename or copy gives two
 * pairs, the new path and the original one, both with its status.
 */
function parseStatusZ(out: string): Array<[string, string]> {
  const fields = out.split('\0');
  const entries: Array<[string, string]> = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.length < 4) continue;
    const xy = f.slice(0, 2);
    entries.push([xy, f.slice(3)]);
    // the original path follows
    if ((xy[0] === 'R' || xy[0] === 'C') && fields[i + 1]) entries.push([xy, fields[++i]]);
  }
  return entries;
}

/** Whether `a` and `b` are the same path or one is a directory holding the other. */
const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

async function inProgressOperation(checkout: string): Promise<string | undefined> {
  const markers: Array<[string, string]> = [
    ['MERGE_HEAD', 'a merge'],
    ['CHERRY_PICK_HEAD', 'a cherry-pick'],
    ['REVERT_HEAD', 'a revert'],
    ['rebase-merge', 'a rebase'],
    ['rebase-apply', 'a rebase or am'],
  ];
  for (const [name, what] of markers) {
    const p = await gitOut(['rev-parse', '--path-format=absolute', '--git-path', name], checkout);
    if (existsSync(p)) return what;
  }
  return undefined;
}

/**
 * Refuses (DirtyCheckoutError) unless the checkout can be moved from `oldCommit` to `newCommit`
 * safely. Like `git merge`, only local changes the move would touch count: a modified, staged or
 * untracked path that differs between the two commits (or a directory of one). Changes elsewhere
 * stay as they are (`git read-tree -m -u` carries them over).
 */
async function assertCleanCheckout(checkout: string, oldCommit: string, newCommit: string): Promise<void> {
  const op = await inProgressOperation(checkout);
  if (op) throw new DirtyCheckoutError(checkout, [], `is in the middle of ${op}`);
  const status = await git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignore-submodules=none'], {
    cwd: checkout,
    raw: true,
  });
  const local = [
    ...new Set(
      parseStatusZ(status.stdout)
        .filter(([xy]) => xy !== '!!')
        .map(([, p]) => p),
    ),
  ];
  if (local.length === 0) return;
  const changed = (await gitOut(['diff', '--name-only', '-z', '--no-renames', oldCommit, newCommit, '--'], checkout))
    .split('\0')
    .filter(Boolean);
  const blocking = local.filter((p) => changed.some((c) => overlaps(p, c)));
  if (blocking.length > 0)
    throw new DirtyCheckoutError(checkout, blocking, 'has uncommitted changes to files the merge would change');
}

/**
 * The commit the base should move to, or `old` itself when the lane brings nothing new (the merge
 * queue validates it before it lands: lanes/git/landing.ts).
 */
export async function resultCommit(opts: MergeLaneOptions, old: string, laneHead: string): Promise<string> {
  const { repoRoot, strategy } = opts;
  const base = short(qualify(opts.base));
  const branch = short(qualify(opts.branch));
  if (laneHead === old || (await isAncestor(repoRoot, laneHead, old))) return old;
  if (strategy === 'ff-only') {
    if (!(await isAncestor(repoRoot, old, laneHead))) throw new NotFastForwardError(base, branch);
    return laneHead;
  }
  const merged = await mergeTree(repoRoot, old, laneHead);
  if (!merged.clean) throw new MergeConflictError(base, branch, merged.paths);
  const oldTree = await gitOut(['rev-parse', '--verify', `${old}^{tree}`], repoRoot);
  if (strategy === 'squash' && merged.tree === oldTree) return old;
  const parents = strategy === 'merge' ? ['-p', old, '-p', laneHead] : ['-p', old];
  const message =
    opts.message.trim() || (strategy === 'merge' ? `Merge branch '${branch}' into ${base}` : `${branch} (squashed)`);
  const author = await resolveAuthor(repoRoot, opts.author);
  const made = await git(['commit-tree', '--no-gpg-sign', ...parents, '-F', '-', merged.tree], {
    cwd: repoRoot,
    input: `${message}\n`,
    env: identityEnv(author),
  });
  return made.stdout.trim();
}

/** The index lock of a worktree, when one exists. */
async function indexLock(checkout: string): Promise<string | undefined> {
  const p = await gitOut(['rev-parse', '--path-format=absolute', '--git-path', 'index.lock'], checkout);
  return existsSync(p) ? p : undefined;
}

export async function mergeLane(opts: MergeLaneOptions): Promise<MergeResult> {
  const baseRef = qualify(opts.base);
  const laneRef = qualify(opts.branch);
  const old = await resolveCommit(opts.repoRoot, baseRef);
  const laneHead = await resolveCommit(opts.repoRoot, laneRef);
  const { prepared } = opts;
  if (prepared && old !== prepared.old) throw new BaseMovedError(short(baseRef), prepared.old);
  if (prepared && laneHead !== prepared.laneHead) throw new LaneMovedError(short(laneRef), prepared.laneHead);
  const checkout = await findCheckout(opts.repoRoot, baseRef);

  const next = prepared ? prepared.next : await resultCommit(opts, old, laneHead);
  if (next === old) return { commit: old, previous: old, changed: false, checkout };
  if (checkout) {
    await assertCleanCheckout(checkout, old, next);
    await git(['update-index', '-q', '--refresh'], { cwd: checkout, allowFail: true });
    const lock = await indexLock(checkout);
    if (lock) throw new IndexLockedError(lock);
  }

  const { journal } = opts;
  const intent = journal
    ? writeMergeIntent(journal.stateDir, {
        version: 1,
        lane: journal.lane,
        laneId: journal.laneId,
        repoRoot: path.resolve(opts.repoRoot),
        baseRef,
        old,
        next,
        checkout: checkout ? path.resolve(checkout) : null,
        strategy: opts.strategy,
        pid: process.pid,
        at: Date.now(),
      })
    : undefined;
  const forget = () => journal && clearMergeIntent(journal.stateDir, journal.laneId);
  await pausePoint('merge:after-intent');

  const reflog = `ao-console: ${opts.strategy} ${short(laneRef)} into ${short(baseRef)}`;
  const swap = await git(['update-ref', '-m', reflog, baseRef, next, old], { cwd: opts.repoRoot, allowFail: true });
  if (swap.exitCode !== 0) {
    forget();
    const now = await git(['rev-parse', '--verify', '--quiet', baseRef], { cwd: opts.repoRoot, allowFail: true });
    if (now.stdout.trim() === old) throw new RefUpdateRefusedError(short(baseRef), swap.stderr.trim());
    throw new BaseMovedError(short(baseRef), old);
  }
  await pausePoint('merge:after-ref');
  if (!checkout) return { commit: next, previous: old, changed: true, intent };

  const moved = await git(['read-tree', '-m', '-u', old, next], { cwd: checkout, allowFail: true });
  if (moved.exitCode !== 0) {
    const back = await git(['update-ref', '-m', `${reflog} (rolled back)`, baseRef, old, next], {
      cwd: opts.repoRoot,
      allowFail: true,
    });
    // Rolled back: nothing is left to finish. Not rolled back: the intent stays for doctor --repair.
    if (back.exitCode === 0) forget();
    const state =
      back.exitCode === 0
        ? `${short(baseRef)} was put back to ${old.slice(0, 12)}`
        : `and ${short(baseRef)} could not be put back (${back.stderr.trim()}); run \`ao-console doctor --repair\``;
    throw new CheckoutUpdateError(
      `could not update the checkout at ${path.resolve(checkout)}: ${moved.stderr.trim()}; ${state}`,
    );
  }
  await pausePoint('merge:after-checkout');
  return { commit: next, previous: old, changed: true, checkout, intent };
}
