/**
 * Lane worktrees: `<stateDir>/worktrees/<lane>` on branch `ao/<lane>`.
 *
 * Rules kept by every function here:
 *  - the lane name is validated before any git call; refs given by callers must not start
 *    with "-"; git runs from an argv array with `--` before paths and refs where git takes it;
 *  - no commit is ever lost: before a branch is reset or deleted, or a worktree removed, what is
 *    not already in base is kept under `refs/ao/archive/<lane>/<timestamp>`, uncommitted files
 *    included (see snapshot.ts);
 *  - every lane worktree is created locked with reason `ao-console lane <lane>`, so a plain
 *    `git worktree remove`/`prune` by someone else refuses it; a lock with any other reason is
 *    someone else's and is never lifted here;
 *  - a lock file is removed only when no process may hold it (see gitLocks.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { git } from './git.js';
import { clearStaleLock } from './locks.js';
import { archiveRef, branchTip, isAncestor, resolveCommit, validateRevisionArg } from './refs.js';
import { laneBranch, validateLaneName } from '../lane/names.js';
import { snapshotWorktree } from './snapshot.js';
import { parseWorktreeList, type WorktreeEntry } from './worktreeList.js';
import { ensureStateDir, worktreesDir } from '../config/paths.js';

export { worktreeStatus } from './snapshot.js';
export { archiveRef, commitsAhead, headCommit } from './refs.js';
export type { WorktreeEntry } from './worktreeList.js';

export type WorktreeErrorCode =
  'base-missing' | 'branch-checked-out' | 'foreign-lock' | 'inside-working-tree' | 'bad-path' | 'broken-worktree';

/** A lane worktree operation that cannot go on safely; `code` says which case. */
export class WorktreeError extends Error {
  constructor(
    readonly code: WorktreeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WorktreeError';
  }
}

export interface LaneWorktree extends WorktreeEntry {
  /** the lane, from the directory name under the worktrees dir */
  lane: string;
  /** its directory is gone (git says `prunable` only when it is not locked; this says it always) */
  missing: boolean;
}

export interface CreateLaneWorktreeOptions {
  repoRoot: string;
  stateDir: string;
  lane: string;
  /** branch (or any commit-ish) the lane starts from */
  base: string;
}

export interface CreatedLaneWorktree {
  path: string;
  branch: string;
  /** the commit `base` named when the lane was created */
  baseCommit: string;
  /** archive refs written while making room (old branch commits, uncommitted files) */
  archivedRefs: string[];
  /** what was found and done, one sentence each, for the operator */
  notes: string[];
}

export interface RemoveLaneWorktreeOptions {
  repoRoot: string;
  stateDir: string;
  lane: string;
  worktreePath: string;
  /** must be `ao/<lane>` */
  branch: string;
  base: string;
  /** leave the branch in place (its commits stay reachable from it) */
  keepBranch?: boolean;
}

export interface RemovedLaneWorktree {
  /** the archive ref holding the lane's unmerged work, null when everything was in base */
  archivedRef: string | null;
  archivedRefs: string[];
  notes: string[];
}

/** The lock reason ao-console puts on its worktrees. */
export const laneLockReason = (lane: string) => `ao-console lane ${lane}`;
const isOurLock = (reason: string | null) => reason !== null && reason.startsWith('ao-console lane ');

interface RepoInfo {
  root: string;
  commonDir: string;
  /** the main worktree's gitdir (holds its index) */
  gitDir: string;
}

async function repoInfo(repoRoot: string): Promise<RepoInfo> {
  const out = await git(
    ['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir', '--absolute-git-dir'],
    { cwd: repoRoot },
  );
  const [root, commonDir, gitDir] = out.stdout.split('\n');
  return { root, commonDir, gitDir };
}

/** Real path of `p`, resolving the longest existing prefix (git stores real paths). */
async function canonical(p: string): Promise<string> {
  const abs = path.resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(await realpath(head), ...tail.reverse());
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return abs;
      tail.push(path.basename(head));
      head = parent;
    }
  }
}

const within = (p: string, dir: string) => p === dir || p.startsWith(dir + path.sep);

/** Every worktree of the repo, as `git worktree list --porcelain -z` reports them. */
export async function listWorktrees(repoRoot: string): Promise<WorktreeEntry[]> {
  const out = await git(['worktree', 'list', '--porcelain', '-z'], { cwd: repoRoot, raw: true });
  return parseWorktreeList(out.stdout);
}

/** The worktrees under `<stateDir>/worktrees/`, each with its lane name. */
export async function listLaneWorktrees(repoRoot: string, stateDir: string): Promise<LaneWorktree[]> {
  const dir = await canonical(worktreesDir(stateDir));
  const all = await listWorktrees(repoRoot);
  const lanes: LaneWorktree[] = [];
  for (const e of all) {
    const p = await canonical(e.path);
    if (path.dirname(p) === dir) lanes.push({ ...e, lane: path.basename(p), missing: isGone(e) });
  }
  return lanes;
}

/** Runs `git worktree prune --verbose` and returns what it removed (one line per worktree). */
export async function pruneWorktrees(repoRoot: string): Promise<string[]> {
  const res = await git(['worktree', 'prune', '--verbose'], { cwd: repoRoot });
  return `${res.stdout}\n${res.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('Removing '));
}

/** Throws unless `wtPath` is a lane directory inside the state dir and outside the working tree. */
async function checkLanePath(repo: RepoInfo, stateDir: string, wtPath: string): Promise<string> {
  const p = await canonical(wtPath);
  const dir = await canonical(worktreesDir(stateDir));
  if (path.dirname(p) !== dir) {
    throw new WorktreeError(
      'bad-path',
      `${wtPath} is not a lane worktree path (expected a directory directly under ${dir})`,
    );
  }
  const root = await canonical(repo.root);
  const common = await canonical(repo.commonDir);
  if (within(p, root) && !within(p, common)) {
    throw new WorktreeError(
      'inside-working-tree',
      `lane worktree ${p} would be inside the working tree ${root} (git status would show it); put the state dir outside it`,
    );
  }
  return p;
}

interface Ctx {
  repo: RepoInfo;
  lane: string;
  branch: string;
  /** null when base no longer names a commit: then everything counts as unmerged */
  baseCommit: string | null;
  lanesDir: string;
  notes: string[];
  archived: { ref: string; commit: string }[];
}

/** Whether `commit` is already safe: in base, or inside something archived during this call. */
async function alreadyKept(ctx: Ctx, commit: string): Promise<string | null> {
  if (ctx.baseCommit && (await isAncestor(ctx.repo.root, commit, ctx.baseCommit))) return 'base';
  for (const a of ctx.archived) if (await isAncestor(ctx.repo.root, commit, a.commit)) return a.ref;
  return null;
}

async function keep(ctx: Ctx, commit: string, what: string): Promise<void> {
  const where = await alreadyKept(ctx, commit);
  if (where === 'base') return;
  if (where) {
    ctx.notes.push(`${what} (${commit.slice(0, 12)}) is already kept in ${where}`);
    return;
  }
  const ref = await archiveRef(ctx.repo.root, ctx.lane, commit);
  ctx.archived.push({ ref, commit });
  ctx.notes.push(`${what} (${commit.slice(0, 12)}) not in base: kept as ${ref}`);
}

/** Lifts our own lock; refuses someone else's. */
async function unlockIfOurs(ctx: Ctx, e: WorktreeEntry): Promise<void> {
  if (!e.locked) return;
  if (!isOurLock(e.lockReason)) {
    const why = e.lockReason ? `reason: ${JSON.stringify(e.lockReason)}` : 'no reason given';
    throw new WorktreeError(
      'foreign-lock',
      `worktree ${e.path} is locked by someone else (${why}); run \`git worktree unlock ${e.path}\` if it may be replaced`,
    );
  }
  await git(['worktree', 'unlock', '--', e.path], { cwd: ctx.repo.root });
  ctx.notes.push(`unlocked ${e.path} (locked by an earlier ao-console run)`);
}

/**
 * A registered worktree whose directory is gone. git reports `prunable` only for unlocked ones,
 * so a locked worktree is checked on disk.
 */
const isGone = (e: WorktreeEntry) => !e.bare && (e.prunable || !existsSync(e.path));

/** Prunes registered worktrees whose directory is gone, when they are ours or hold our branch. */
async function pruneStale(ctx: Ctx, wtPath: string): Promise<WorktreeEntry[]> {
  let entries = await listWorktrees(ctx.repo.root);
  const stale: WorktreeEntry[] = [];
  for (const e of entries) {
    if (!isGone(e)) continue;
    if (e.branch === ctx.branch || (await canonical(e.path)) === wtPath) stale.push(e);
  }
  if (stale.length === 0) return entries;
  for (const e of stale) {
    if (e.locked && !isOurLock(e.lockReason)) continue; // reported below as checked out elsewhere
    await unlockIfOurs(ctx, e);
    // Its branch and HEAD commits stay in the repo; only the worktree's own HEAD may be loose.
    if (e.head && e.detached) await keep(ctx, e.head, `detached HEAD of the stale worktree ${e.path}`);
  }
  const pruned = await pruneWorktrees(ctx.repo.root);
  ctx.notes.push(
    `pruned stale worktree registrations whose directory is gone: ${pruned.join('; ') || stale.map((e) => e.path).join(', ')}`,
  );
  entries = await listWorktrees(ctx.repo.root);
  return entries;
}

/** Saves what a registered lane worktree holds beyond base, then removes it. */
async function retireWorktree(ctx: Ctx, e: WorktreeEntry, wtPath: string): Promise<void> {
  await unlockIfOurs(ctx, e);
  let wtGitDir: string;
  try {
    wtGitDir = (await git(['rev-parse', '--absolute-git-dir'], { cwd: wtPath })).stdout;
  } catch (err) {
    throw new WorktreeError(
      'broken-worktree',
      `worktree ${wtPath} is registered but git cannot use it (${(err as Error).message}); its uncommitted files cannot be saved, so it is left alone: move it away by hand`,
    );
  }
  const lock = path.join(wtGitDir, 'index.lock');
  if ((await clearStaleLock(lock, { roots: [wtPath, wtGitDir] })) === 'removed') {
    ctx.notes.push(`removed leftover ${lock} (no git process was using it)`);
  }
  const snap = await snapshotWorktree(wtPath, `ao-console: uncommitted changes of lane ${ctx.lane}`);
  if (snap) await keep(ctx, snap, `uncommitted changes in ${wtPath}`);
  else if (e.head) await keep(ctx, e.head, `HEAD of ${wtPath}`);
  await git(['worktree', 'remove', '--force', '--', wtPath], { cwd: ctx.repo.root });
  ctx.notes.push(`removed the old worktree ${wtPath}`);
}

/** Makes room at `wtPath` and clears everything that would stop a worktree for our branch. */
async function clearTheWay(ctx: Ctx, wtPath: string): Promise<void> {
  const refLock = path.join(ctx.repo.commonDir, 'refs', 'heads', `${ctx.branch}.lock`);
  if ((await clearStaleLock(refLock, { roots: [ctx.repo.root, ctx.lanesDir] })) === 'removed') {
    ctx.notes.push(`removed leftover ${refLock} (no git process was using it)`);
  }
  const entries = await pruneStale(ctx, wtPath);
  let ours: WorktreeEntry | undefined;
  for (const e of entries) {
    const p = await canonical(e.path);
    if (p === wtPath) ours = e;
    else if (e.branch === ctx.branch) {
      const state = isGone(e) ? ` (its directory is gone but it is locked: ${JSON.stringify(e.lockReason)})` : '';
      throw new WorktreeError(
        'branch-checked-out',
        `branch ${ctx.branch} is checked out in another worktree: ${e.path}${state}; switch that worktree to another branch or remove it first`,
      );
    }
  }
  if (ours) await retireWorktree(ctx, ours, wtPath);
  else if (existsSync(wtPath)) {
    await rm(wtPath, { recursive: true, force: true });
    ctx.notes.push(`removed the leftover directory ${wtPath} (no worktree was registered there)`);
  }
}

/**
 * Creates a fresh worktree for a lane at `<stateDir>/worktrees/<lane>` on branch `ao/<lane>`,
 * started at `base`. Anything found in the way is made safe and described in `notes`:
 * an old branch is reset when all its commits are in base, otherwise archived first; an old
 * worktree at the path is snapshotted (uncommitted files too) and removed; stale registrations
 * are pruned; leftover lock files no process holds are removed. Throws WorktreeError when base
 * does not exist, the branch is checked out in a worktree that is not ours, or a foreign lock
 * is in the way; GitLockHeldError when a git process is running on a lock we need.
 */
export async function createLaneWorktree(opts: CreateLaneWorktreeOptions): Promise<CreatedLaneWorktree> {
  const lane = validateLaneName(opts.lane);
  const branch = laneBranch(lane);
  const base = validateRevisionArg(opts.base, 'base branch');
  const repo = await repoInfo(opts.repoRoot);
  const stateDir = path.resolve(opts.stateDir);
  const wtPath = await checkLanePath(repo, stateDir, path.join(worktreesDir(stateDir), lane));
  const baseCommit = await resolveCommit(repo.root, base);
  if (!baseCommit) {
    throw new WorktreeError('base-missing', `base branch ${JSON.stringify(base)} does not exist in ${repo.root}`);
  }
  const ctx: Ctx = {
    repo,
    lane,
    branch,
    baseCommit,
    lanesDir: path.dirname(wtPath),
    notes: [],
    archived: [],
  };

  // The main index is not needed to add a worktree, but a leftover lock there breaks the merge later.
  const mainLock = path.join(repo.gitDir, 'index.lock');
  try {
    if ((await clearStaleLock(mainLock, { roots: [repo.root, repo.gitDir], exclude: [ctx.lanesDir] })) === 'removed') {
      ctx.notes.push(`removed leftover ${mainLock} (no git process was using it)`);
    }
  } catch {
    ctx.notes.push(`${mainLock} is held by a running git process; left alone (creating the lane does not need it)`);
  }

  await clearTheWay(ctx, wtPath);

  const tip = await branchTip(repo.root, branch);
  if (tip) {
    await keep(ctx, tip, `branch ${branch}`);
    // Compare-and-swap: if someone moved the branch since we looked, this fails instead of losing it.
    await git(
      ['update-ref', '-m', `ao-console: reset lane ${lane} to ${base}`, '--', `refs/heads/${branch}`, baseCommit, tip],
      {
        cwd: repo.root,
      },
    );
    ctx.notes.push(
      tip === baseCommit
        ? `branch ${branch} already existed at ${base}; reused it`
        : `branch ${branch} already existed; reset it to ${base} (${baseCommit.slice(0, 12)})`,
    );
  } else {
    await git(
      ['update-ref', '-m', `ao-console: lane ${lane} from ${base}`, '--', `refs/heads/${branch}`, baseCommit, ''],
      {
        cwd: repo.root,
      },
    );
  }

  ensureStateDir(stateDir);
  await mkdir(ctx.lanesDir, { recursive: true, mode: 0o700 });
  await git(['worktree', 'add', '--lock', '--reason', laneLockReason(lane), '--', wtPath, branch], { cwd: repo.root });
  ctx.notes.push(`created worktree ${wtPath} on ${branch} at ${base} (${baseCommit.slice(0, 12)})`);
  return { path: wtPath, branch, baseCommit, archivedRefs: ctx.archived.map((a) => a.ref), notes: ctx.notes };
}

/**
 * Removes a lane's worktree and (unless keepBranch) its branch without losing work: uncommitted
 * files are committed onto an archive ref first (snapshot.ts), and branch commits not in base
 * are archived before the branch is deleted. A branch still checked out in another worktree is
 * kept. Removing what is already gone is not an error.
 */
export async function removeLaneWorktree(opts: RemoveLaneWorktreeOptions): Promise<RemovedLaneWorktree> {
  const lane = validateLaneName(opts.lane);
  const branch = laneBranch(lane);
  if (opts.branch !== branch) {
    throw new WorktreeError(
      'bad-path',
      `lane ${lane} works on ${branch}, not ${JSON.stringify(opts.branch)}; refusing to delete it`,
    );
  }
  const base = validateRevisionArg(opts.base, 'base branch');
  const repo = await repoInfo(opts.repoRoot);
  const wtPath = await checkLanePath(repo, path.resolve(opts.stateDir), opts.worktreePath);
  const baseCommit = await resolveCommit(repo.root, base);
  const ctx: Ctx = {
    repo,
    lane,
    branch,
    baseCommit,
    lanesDir: path.dirname(wtPath),
    notes: [],
    archived: [],
  };
  if (!baseCommit)
    ctx.notes.push(`base ${JSON.stringify(base)} no longer exists: every commit of the lane is archived`);

  const entries = await pruneStale(ctx, wtPath);
  const ours: WorktreeEntry[] = [];
  for (const e of entries) if ((await canonical(e.path)) === wtPath) ours.push(e);
  if (ours[0]) await retireWorktree(ctx, ours[0], wtPath);
  else if (existsSync(wtPath)) {
    await rm(wtPath, { recursive: true, force: true });
    ctx.notes.push(`removed the leftover directory ${wtPath} (no worktree was registered there)`);
  }

  const tip = await branchTip(repo.root, branch);
  if (tip && !opts.keepBranch) {
    const elsewhere = entries.find((e) => e.branch === branch && !ours.includes(e));
    if (elsewhere) {
      ctx.notes.push(`branch ${branch} is checked out in ${elsewhere.path}; kept it`);
    } else {
      await keep(ctx, tip, `branch ${branch}`);
      await git(['update-ref', '-d', '-m', `ao-console: remove lane ${lane}`, '--', `refs/heads/${branch}`, tip], {
        cwd: repo.root,
      });
      ctx.notes.push(`deleted branch ${branch}`);
    }
  }
  const refs = ctx.archived.map((a) => a.ref);
  return { archivedRef: refs.at(-1) ?? null, archivedRefs: refs, notes: ctx.notes };
}
