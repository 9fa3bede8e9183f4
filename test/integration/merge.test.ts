/**
 * Handoff commits and merging into the base against real temp git repos: each strategy, refusals
 * that leave the operator's checkout exactly as it was (conflict, dirty, not fast-forward, a held
 * index lock, a reference-transaction hook that refuses), a base that is not checked out anywhere,
 * the merge journal (lanes/git/mergeIntent.ts) and finishing a checkout a killed merge left behind
 * (lanes/git/mergeRepair.ts). The kill -9 of a real engine is test/integration/mergeCrash.test.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitOut } from '../../lanes/git/git.js';
import { diffStat, fullDiff, isEmptyAgainst } from '../../lanes/git/diff.js';
import { commitPendingChanges, handoffMessage } from '../../lanes/git/handoffCommit.js';
import {
  DirtyCheckoutError,
  IndexLockedError,
  MergeConflictError,
  mergeLane,
  NotFastForwardError,
  RefUpdateRefusedError,
} from '../../lanes/git/merge.js';
import { listMergeIntents } from '../../lanes/git/mergeIntent.js';
import { checkoutsLeftBehind, finishCheckout, inspectCheckout } from '../../lanes/git/mergeRepair.js';

let dir: string;
let repo: string;
let counter = 0;
const AUTHOR = { name: 'Ops Bot', email: 'ops@example.com' };

const g = (cwd: string, ...args: string[]) => gitOut(args, cwd);

async function write(root: string, file: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(path.join(root, file)), { recursive: true });
  await writeFile(path.join(root, file), content);
}

async function commitAll(cwd: string, message: string): Promise<string> {
  await g(cwd, 'add', '-A');
  await g(cwd, 'commit', '-q', '--allow-empty', '-m', message);
  return g(cwd, 'rev-parse', 'HEAD');
}

async function lane(
  files: Record<string, string>,
  from = 'main',
): Promise<{ branch: string; worktree: string; head: string }> {
  const name = `lane${++counter}`;
  const worktree = path.join(dir, name);
  await g(repo, 'worktree', 'add', '-q', '-b', `ao/${name}`, worktree, from);
  for (const [file, content] of Object.entries(files)) await write(worktree, file, content);
  const head = await commitAll(worktree, `work of ${name}`);
  return { branch: `ao/${name}`, worktree, head };
}

/** Everything about the main checkout a failed merge must not change. */
async function checkoutState(cwd: string) {
  return {
    head: await g(cwd, 'rev-parse', 'HEAD'),
    symbolic: await g(cwd, 'symbolic-ref', 'HEAD'),
    index: createHash('sha256')
      .update(await g(cwd, 'ls-files', '-s'))
      .digest('hex'),
    status: await g(cwd, 'status', '--porcelain', '--untracked-files=all'),
    mergeHead: existsSync(path.join(cwd, '.git', 'MERGE_HEAD')),
    shared: await readFile(path.join(cwd, 'shared.txt'), 'utf8'),
  };
}

const parents = async (commit: string) =>
  (await g(repo, 'rev-list', '--parents', '-n', '1', commit)).split(' ').slice(1);

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ao-merge-'));
  repo = path.join(dir, 'repo');
  await mkdir(repo);
  await g(repo, 'init', '-q', '-b', 'main');
  await g(repo, 'config', 'user.name', 'Merge Tester');
  await g(repo, 'config', 'user.email', 'merge@example.com');
  await g(repo, 'config', 'commit.gpgsign', 'false');
  await write(repo, 'README.md', '# demo\n');
  await write(repo, 'shared.txt', 'one\n');
  await commitAll(repo, 'initial');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('handoff commit', () => {
  it('commits pending changes (new files too) with the task as message, or returns null', async () => {
    const l = await lane({ 'a.txt': 'a\n' });
    expect(await commitPendingChanges(l.worktree, { message: 'nothing', author: AUTHOR })).toBeNull();

    await write(l.worktree, 'new/untracked.txt', 'fresh\n');
    await write(l.worktree, 'a.txt', 'changed\n');
    const task = `${'Implement the parser for the new configuration format with strict errors'.padEnd(90, '!')}\nand tests`;
    const head = await commitPendingChanges(l.worktree, { message: task, author: AUTHOR });
    expect(head).toBe(await g(l.worktree, 'rev-parse', 'HEAD'));
    expect(head).not.toBe(l.head);
    const subject = await g(l.worktree, 'log', '-1', '--format=%s');
    expect(subject.length).toBe(72);
    expect(subject.startsWith('Implement the parser')).toBe(true);
    expect(await g(l.worktree, 'log', '-1', '--format=%an <%ae>')).toBe('Ops Bot <ops@example.com>');
    expect(await g(l.worktree, 'log', '-1', '--format=%b')).toContain('and tests');
    expect(await g(l.worktree, 'status', '--porcelain')).toBe('');
    expect(handoffMessage('  short task \n')).toBe('short task');
  });

  it('measures the lane against its base: diff stat (binary 0/0), full diff, emptiness', async () => {
    const l = await lane({ 'code.ts': 'one\ntwo\nthree\n', 'shared.txt': 'uno\n' });
    await writeFile(path.join(l.worktree, 'logo.bin'), Buffer.from([0, 1, 2, 0, 255]));
    const head = await commitAll(l.worktree, 'binary');
    await write(repo, 'main-only.txt', 'main moved on\n');
    await commitAll(repo, 'main moves'); // not part of the lane's diff (three-dot range)

    const stat = await diffStat(repo, 'main', head);
    expect(stat).toEqual(
      expect.arrayContaining([
        { path: 'code.ts', added: 3, deleted: 0 },
        { path: 'shared.txt', added: 1, deleted: 1 },
        { path: 'logo.bin', added: 0, deleted: 0, binary: true },
      ]),
    );
    expect(stat).toHaveLength(3);
    const diff = await fullDiff(repo, 'main', head);
    expect(diff).toContain('+uno');
    expect(diff).not.toContain('main-only.txt');
    expect(await isEmptyAgainst(repo, 'main', head)).toBe(false);

    const empty = await lane({});
    expect(await isEmptyAgainst(repo, 'main', empty.head)).toBe(true);
  });
});

describe('mergeLane', () => {
  it('merge: a merge commit with two parents, the main checkout updated and clean', async () => {
    const l = await lane({ 'feature.txt': 'feature\n' });
    await write(repo, 'main-only.txt', 'x\n');
    const old = await commitAll(repo, 'main moves');
    const { commit } = await mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: l.branch,
      strategy: 'merge',
      message: 'Merge lane',
      author: AUTHOR,
    });
    expect(await parents(commit)).toEqual([old, l.head]);
    expect(await g(repo, 'rev-parse', 'HEAD')).toBe(commit);
    expect(await g(repo, 'log', '-1', '--format=%s|%an', commit)).toBe('Merge lane|Ops Bot');
    expect(await readFile(path.join(repo, 'feature.txt'), 'utf8')).toBe('feature\n');
    expect(await g(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(await g(repo, 'diff', '--cached', 'HEAD', '--name-only')).toBe('');
  });

  it('merge makes a merge commit even when a fast-forward was possible', async () => {
    const l = await lane({ 'f.txt': 'f\n' });
    const old = await g(repo, 'rev-parse', 'main');
    const { commit } = await mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: l.branch,
      strategy: 'merge',
      message: 'm',
      author: AUTHOR,
    });
    expect(await parents(commit)).toEqual([old, l.head]);
  });

  it("squash: one parent, the lane's changes, untracked files elsewhere left alone", async () => {
    const l = await lane({ 'feature.txt': 'feature\n', 'shared.txt': 'two\n' });
    await write(l.worktree, 'more.txt', 'more\n');
    await commitAll(l.worktree, 'second lane commit');
    await write(repo, 'scratch.txt', 'operator notes\n'); // untracked, not in the merge's way
    const old = await g(repo, 'rev-parse', 'main');
    const { commit } = await mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: l.branch,
      strategy: 'squash',
      message: 'Squashed lane',
      author: AUTHOR,
    });
    expect(await parents(commit)).toEqual([old]);
    expect(await g(repo, 'show', '--name-only', '--format=', commit)).toBe('feature.txt\nmore.txt\nshared.txt');
    expect(await readFile(path.join(repo, 'shared.txt'), 'utf8')).toBe('two\n');
    expect(await readFile(path.join(repo, 'scratch.txt'), 'utf8')).toBe('operator notes\n');
    expect(await g(repo, 'status', '--porcelain')).toBe('?? scratch.txt');
  });

  it('ff-only: fast-forwards to the lane head, refuses when the base has moved on', async () => {
    const l = await lane({ 'ff.txt': 'ff\n' });
    const { commit } = await mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: l.branch,
      strategy: 'ff-only',
      message: '',
      author: AUTHOR,
    });
    expect(commit).toBe(l.head);
    expect(await g(repo, 'rev-parse', 'HEAD')).toBe(l.head);
    expect(await readFile(path.join(repo, 'ff.txt'), 'utf8')).toBe('ff\n');

    const behind = await lane({ 'late.txt': 'late\n' });
    await write(repo, 'main-only.txt', 'x\n');
    await commitAll(repo, 'main moves');
    const before = await checkoutState(repo);
    const attempt = mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: behind.branch,
      strategy: 'ff-only',
      message: '',
      author: AUTHOR,
    });
    await expect(attempt).rejects.toBeInstanceOf(NotFastForwardError);
    expect(await checkoutState(repo)).toEqual(before);
  });

  it('a conflicting lane is refused before anything changes', async () => {
    const l = await lane({ 'shared.txt': 'lane\n', 'other.txt': 'other\n' });
    await write(repo, 'shared.txt', 'main\n');
    await commitAll(repo, 'main edits shared.txt');
    const before = await checkoutState(repo);
    const err = await mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: l.branch,
      strategy: 'merge',
      message: 'm',
      author: AUTHOR,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MergeConflictError);
    expect((err as MergeConflictError).paths).toEqual(['shared.txt']);
    expect(await checkoutState(repo)).toEqual(before);
    expect(existsSync(path.join(repo, 'other.txt'))).toBe(false);
    for (const strategy of ['squash', 'merge'] as const) {
      await expect(
        mergeLane({ repoRoot: repo, base: 'main', branch: l.branch, strategy, message: 'm' }),
      ).rejects.toBeInstanceOf(MergeConflictError);
    }
    expect(await checkoutState(repo)).toEqual(before);
  });

  it('changes in paths the merge changes are refused, naming only those paths, and left as they were', async () => {
    const l = await lane({ 'shared.txt': 'from the lane\n', 'README.md': '# lane readme\n', 'feature.txt': 'f\n' });
    await write(repo, 'shared.txt', 'edited by the operator\n');
    await write(repo, 'README.md', 'staged edit\n');
    await g(repo, 'add', 'README.md');
    await write(repo, 'notes.txt', 'untracked, not touched by the merge\n');
    const before = await checkoutState(repo);
    const err = await mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: l.branch,
      strategy: 'merge',
      message: 'm',
      author: AUTHOR,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirtyCheckoutError);
    expect((err as DirtyCheckoutError).files.sort()).toEqual(['README.md', 'shared.txt']);
    expect((err as Error).message).toMatch(/files the merge would change: .*shared\.txt.*commit or stash them first/);
    expect((err as Error).message).not.toContain('notes.txt');
    expect(await checkoutState(repo)).toEqual(before);
    expect(await g(repo, 'diff', '--cached', '--name-only')).toBe('README.md');
  });

  it('changes in paths the merge does not touch do not stop it, and are kept (as git merge does)', async () => {
    const l = await lane({ 'feature.txt': 'feature\n' });
    await write(repo, 'shared.txt', 'edited by the operator\n');
    await write(repo, 'README.md', 'staged edit\n');
    await g(repo, 'add', 'README.md');
    await write(repo, 'notes.txt', 'scratch\n');
    const { commit } = await mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: l.branch,
      strategy: 'merge',
      message: 'm',
      author: AUTHOR,
    });
    expect(await g(repo, 'rev-parse', 'HEAD')).toBe(commit);
    expect(await readFile(path.join(repo, 'feature.txt'), 'utf8')).toBe('feature\n');
    // the merge commit holds the lane's work only, not the operator's staged edit
    expect(await g(repo, 'show', `${commit}:README.md`)).toBe('# demo');
    expect(await readFile(path.join(repo, 'shared.txt'), 'utf8')).toBe('edited by the operator\n');
    expect(await g(repo, 'diff', '--cached', '--name-only')).toBe('README.md');
    expect((await g(repo, 'status', '--porcelain', '--untracked-files=all')).split('\n').sort()).toEqual([
      ' M shared.txt',
      '?? notes.txt',
      'M  README.md',
    ]);
  });

  it('an untracked file the merge would overwrite counts as dirty', async () => {
    const l = await lane({ 'feature.txt': 'from the lane\n' });
    await write(repo, 'feature.txt', 'operator scratch\n');
    const before = await checkoutState(repo);
    await expect(
      mergeLane({ repoRoot: repo, base: 'main', branch: l.branch, strategy: 'squash', message: 'm' }),
    ).rejects.toThrow(DirtyCheckoutError);
    expect(await checkoutState(repo)).toEqual(before);
    expect(await readFile(path.join(repo, 'feature.txt'), 'utf8')).toBe('operator scratch\n');
  });

  it('a base that is not checked out is merged without touching any checkout', async () => {
    await g(repo, 'branch', 'release');
    const l = await lane({ 'fix.txt': 'fix\n' }, 'release');
    await write(repo, 'shared.txt', 'operator is mid-edit on main\n'); // dirty, but main is not the base
    const before = await checkoutState(repo);
    const oldRelease = await g(repo, 'rev-parse', 'release');
    const { commit } = await mergeLane({
      repoRoot: repo,
      base: 'release',
      branch: l.branch,
      strategy: 'merge',
      message: 'into release',
      author: AUTHOR,
    });
    expect(await g(repo, 'rev-parse', 'release')).toBe(commit);
    expect(await parents(commit)).toEqual([oldRelease, l.head]);
    expect(await g(repo, 'show', `${commit}:fix.txt`)).toBe('fix');
    expect(await checkoutState(repo)).toEqual(before);
    expect(existsSync(path.join(repo, 'fix.txt'))).toBe(false);
  });

  it('merging a lane that brings nothing new changes nothing', async () => {
    const l = await lane({ 'once.txt': 'once\n' });
    const first = await mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: l.branch,
      strategy: 'merge',
      message: 'm',
      author: AUTHOR,
    });
    const again = await mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: l.branch,
      strategy: 'merge',
      message: 'm',
      author: AUTHOR,
    });
    expect(again).toMatchObject({ commit: first.commit, changed: false });
    const squashed = await lane({ 'twice.txt': 'twice\n' });
    const s1 = await mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: squashed.branch,
      strategy: 'squash',
      message: 's',
    });
    const s2 = await mergeLane({
      repoRoot: repo,
      base: 'main',
      branch: squashed.branch,
      strategy: 'squash',
      message: 's',
    });
    expect(s2).toMatchObject({ commit: s1.commit, changed: false });
  });
});

describe('merge journal and late failures', () => {
  const stateDir = () => path.join(dir, 'state');
  const journal = (laneId: number) => ({ stateDir: stateDir(), lane: `lane${laneId}`, laneId });
  const opts = (branch: string, laneId = 1) => ({
    repoRoot: repo,
    base: 'main',
    branch,
    strategy: 'merge' as const,
    message: 'm',
    author: AUTHOR,
    journal: journal(laneId),
  });

  it('a journaled merge leaves its intent (old, next, checkout) for the caller to clear', async () => {
    const l = await lane({ 'j.txt': 'j\n' });
    const old = await g(repo, 'rev-parse', 'main');
    const res = await mergeLane(opts(l.branch, 7));
    const [stored] = listMergeIntents(stateDir());
    expect(stored.file).toBe(res.intent);
    expect(stored.intent).toMatchObject({
      lane: 'lane7',
      laneId: 7,
      baseRef: 'refs/heads/main',
      old,
      next: res.commit,
      checkout: repo,
      pid: process.pid,
    });
    expect(await g(repo, 'status', '--porcelain')).toBe('');
  });

  it('a held index lock refuses the merge before anything moves; no intent is left', async () => {
    const l = await lane({ 'k.txt': 'k\n' });
    const before = await checkoutState(repo);
    await writeFile(path.join(repo, '.git', 'index.lock'), '');
    const err = await mergeLane(opts(l.branch)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(IndexLockedError);
    expect((err as Error).message).toContain('index.lock');
    await rm(path.join(repo, '.git', 'index.lock'));
    expect(await checkoutState(repo)).toEqual(before);
    expect(listMergeIntents(stateDir())).toEqual([]);
  });

  it('a reference-transaction hook that refuses leaves the base, the checkout and the journal as they were', async () => {
    const l = await lane({ 'h.txt': 'h\n' });
    const before = await checkoutState(repo);
    const hook = path.join(repo, '.git', 'hooks', 'reference-transaction');
    await mkdir(path.dirname(hook), { recursive: true });
    await writeFile(
      hook,
      '#!/bin/sh\n[ "$1" = prepared ] || exit 0\nwhile read old new ref; do [ "$ref" = refs/heads/main ] && { echo "main is frozen" >&2; exit 1; }; done\nexit 0\n',
    );
    await chmod(hook, 0o755);
    const err = await mergeLane(opts(l.branch)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(RefUpdateRefusedError);
    expect((err as Error).message).toMatch(/git refused to move main \(.*main is frozen/);
    expect(await checkoutState(repo)).toEqual(before);
    expect(listMergeIntents(stateDir())).toEqual([]);
  });

  /** The state a kill right after the ref moved leaves: HEAD at the merge, index and files still old. */
  async function refMovedOnly(files: Record<string, string>) {
    const l = await lane(files);
    const old = await g(repo, 'rev-parse', 'main');
    const tree = await g(repo, 'merge-tree', '--write-tree', old, l.head);
    const next = await g(repo, 'commit-tree', '-p', old, '-p', l.head, '-m', 'merge', tree);
    await g(repo, 'update-ref', '-m', `ao-console: merge ${l.branch} into main`, 'refs/heads/main', next, old);
    return { move: { checkout: repo, baseRef: 'refs/heads/main', old, next }, lane: l };
  }

  it('finishes a checkout left behind after the ref moved: HEAD, index and files match, git status clean', async () => {
    await write(repo, 'gone.txt', 'bye\n');
    await commitAll(repo, 'a file the lane deletes');
    const l0 = await lane({ 'sub/new.txt': 'new\n', 'shared.txt': 'two\n' });
    await rm(path.join(l0.worktree, 'gone.txt'));
    await commitAll(l0.worktree, 'delete');
    const old = await g(repo, 'rev-parse', 'main');
    const tree = await g(repo, 'merge-tree', '--write-tree', old, `ao/lane${counter}`);
    const next = await g(repo, 'commit-tree', '-p', old, '-p', `ao/lane${counter}`, '-m', 'merge', tree);
    await g(repo, 'update-ref', '-m', 'ao-console: merge into main', 'refs/heads/main', next, old);
    const move = { checkout: repo, baseRef: 'refs/heads/main', old, next };
    // what the issue saw: git status shows the merge as staged reverts
    expect(await g(repo, 'status', '--porcelain')).not.toBe('');
    expect(await checkoutsLeftBehind(repo)).toEqual([move]);
    expect(await inspectCheckout(move)).toMatchObject({ kind: 'behind' });
    // an untracked file of the user's elsewhere is kept
    await write(repo, 'mine.txt', 'mine\n');
    const fin = await finishCheckout(move);
    expect(fin.state).toEqual({ kind: 'done' });
    expect(fin.did).toMatch(/moved the checkout/);
    expect(await g(repo, 'status', '--porcelain')).toBe('?? mine.txt');
    expect(await readFile(path.join(repo, 'sub/new.txt'), 'utf8')).toBe('new\n');
    expect(await readFile(path.join(repo, 'shared.txt'), 'utf8')).toBe('two\n');
    expect(existsSync(path.join(repo, 'gone.txt'))).toBe(false);
    expect(await checkoutsLeftBehind(repo)).toEqual([]);
  });

  it("finishes a checkout cut short mid-way (some files written, stale index.lock) only when told the lock is the merge's", async () => {
    const { move } = await refMovedOnly({ 'a.txt': 'A\n', 'b.txt': 'B\n' });
    // git wrote a.txt, then died holding the lock
    await write(repo, 'a.txt', 'A\n');
    await writeFile(path.join(repo, '.git', 'index.lock'), '');
    const refused = await finishCheckout(move);
    expect(refused.state).toMatchObject({ kind: 'blocked', detail: expect.stringContaining('index.lock') });
    expect(await g(repo, 'rev-parse', 'HEAD')).toBe(move.next);
    const fin = await finishCheckout(move, { removeLock: () => true });
    expect(fin.state).toEqual({ kind: 'done' });
    expect(fin.did).toMatch(/removed the killed merge's index.lock.*1 file\(s\) written, 0 removed, 1 already written/);
    expect(await g(repo, 'status', '--porcelain')).toBe('');
  });

  it("never overwrites a change of the user's in a file the merge touches", async () => {
    const { move } = await refMovedOnly({ 'shared.txt': 'lane\n' });
    await write(repo, 'shared.txt', 'my own edit\n');
    const fin = await finishCheckout(move);
    expect(fin.state).toMatchObject({ kind: 'blocked', detail: expect.stringContaining('shared.txt') });
    expect(fin.did).toBeNull();
    expect(await readFile(path.join(repo, 'shared.txt'), 'utf8')).toBe('my own edit\n');
  });

  it('leaves a checkout that has another branch checked out alone', async () => {
    const { move } = await refMovedOnly({ 'c.txt': 'c\n' });
    await g(repo, 'checkout', '-q', '-f', '-b', 'elsewhere', move.old);
    expect(await inspectCheckout(move)).toMatchObject({ kind: 'elsewhere' });
    expect(await checkoutsLeftBehind(repo)).toEqual([]);
  });
});
