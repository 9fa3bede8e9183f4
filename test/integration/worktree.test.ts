import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { git } from '../../lanes/git/git.js';
import { GitLockHeldError } from '../../lanes/git/locks.js';
import { listArchiveRefs } from '../../lanes/git/refs.js';
import { LaneNameError } from '../../lanes/lane/names.js';
import {
  archiveRef,
  commitsAhead,
  createLaneWorktree,
  headCommit,
  listLaneWorktrees,
  pruneWorktrees,
  removeLaneWorktree,
  worktreeStatus,
  WorktreeError,
} from '../../lanes/git/worktree.js';
import { commitFile, createTempRepo, type TempRepo } from '../helpers/tempRepo.js';

let repo: TempRepo;
const extra: string[] = [];
const out = async (args: string[], cwd = repo.dir) => (await git(args, { cwd })).stdout;
const create = (lane: string, base = 'main') =>
  createLaneWorktree({ repoRoot: repo.dir, stateDir: repo.stateDir, lane, base });
const remove = (lane: string, keepBranch = false) =>
  removeLaneWorktree({
    repoRoot: repo.dir,
    stateDir: repo.stateDir,
    lane,
    base: 'main',
    branch: `ao/${lane}`,
    keepBranch,
    worktreePath: path.join(repo.stateDir, 'worktrees', lane),
  });
const branchExists = async (b: string) =>
  (await git(['rev-parse', '--verify', '--quiet', `refs/heads/${b}`], { cwd: repo.dir, allowFail: true })).exitCode ===
  0;
const mainStatus = () => out(['status', '--porcelain', '--untracked-files=all']);

beforeEach(async () => {
  repo = await createTempRepo();
});
afterEach(async () => {
  await repo.cleanup();
  for (const d of extra.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('createLaneWorktree', () => {
  it('creates a fresh locked worktree on ao/<lane> at base, outside what git status sees', async () => {
    const base = await headCommit(repo.dir, 'main');
    const wt = await create('fix-1');
    expect(wt.path).toBe(path.join(repo.stateDir, 'worktrees', 'fix-1'));
    expect(wt.branch).toBe('ao/fix-1');
    expect(wt.baseCommit).toBe(base);
    expect(wt.archivedRefs).toEqual([]);
    expect(await out(['rev-parse', 'HEAD'], wt.path)).toBe(base);
    expect(await out(['symbolic-ref', '--short', 'HEAD'], wt.path)).toBe('ao/fix-1');
    expect(await readFile(path.join(wt.path, 'README.md'), 'utf8')).toBe('# temp repo\n');
    const lanes = await listLaneWorktrees(repo.dir, repo.stateDir);
    expect(lanes).toHaveLength(1);
    expect(lanes[0]).toMatchObject({ lane: 'fix-1', branch: 'ao/fix-1', head: base, locked: true, prunable: false });
    expect(lanes[0].lockReason).toBe('ao-console lane fix-1');
    await writeFile(path.join(wt.path, 'new.txt'), 'x');
    expect(await mainStatus()).toBe('');
    expect(await worktreeStatus(wt.path)).toEqual({ dirty: true, files: ['new.txt'] });
  });

  it('names a base branch that does not exist', async () => {
    await expect(create('a', 'no-such-branch')).rejects.toThrow(/base branch "no-such-branch" does not exist/);
    await expect(create('a', 'no-such-branch')).rejects.toMatchObject({ code: 'base-missing' });
    expect(existsSync(path.join(repo.stateDir, 'worktrees', 'a'))).toBe(false);
  });

  it('rejects a lane name with shell syntax before any git call', async () => {
    for (const lane of ['x;touch CANARY', '$(touch CANARY)', '-rf', '../escape', 'a b']) {
      // A repo root that does not exist: any git call would fail with a different error.
      await expect(
        createLaneWorktree({ repoRoot: '/nonexistent/repo', stateDir: '/nonexistent/state', lane, base: 'main' }),
      ).rejects.toBeInstanceOf(LaneNameError);
      await expect(create(lane)).rejects.toBeInstanceOf(LaneNameError);
    }
    expect(existsSync(path.join(repo.stateDir))).toBe(false);
    await expect(create('ok', '--output=/tmp/x')).rejects.toThrow(/must be non-empty, not start with "-"/);
  });

  it('never runs shell syntax held in a base branch name', async () => {
    const canaries = ['CANARY1', 'CANARY2', 'CANARY3'].map((c) => path.join(repo.dir, c));
    const bases = [
      `x$(touch\${IFS}${canaries[0]})`,
      `y\`touch\${IFS}${canaries[1]}\``,
      `z;touch\${IFS}${canaries[2]};`,
    ];
    await commitFile(repo.dir, 'base.txt', 'b', 'base commit');
    for (const b of bases) await git(['branch', '--', b], { cwd: repo.dir });
    expect((await out(['branch', '--list'])).split('\n').length).toBe(4); // the names are legal
    for (const [i, b] of bases.entries()) {
      const wt = await create(`canary-${i}`, b);
      expect(wt.baseCommit).toBe(await headCommit(repo.dir, 'main'));
      expect(await commitsAhead(repo.dir, b, wt.branch)).toBe(0);
      await removeLaneWorktree({
        repoRoot: repo.dir,
        stateDir: repo.stateDir,
        lane: `canary-${i}`,
        worktreePath: wt.path,
        branch: wt.branch,
        base: b,
      });
    }
    for (const c of canaries) expect(existsSync(c)).toBe(false);
    expect(existsSync(path.join(process.cwd(), 'CANARY1'))).toBe(false);
  });

  it('refuses a state dir inside the working tree', async () => {
    await expect(
      createLaneWorktree({ repoRoot: repo.dir, stateDir: path.join(repo.dir, 'state'), lane: 'a', base: 'main' }),
    ).rejects.toMatchObject({ code: 'inside-working-tree' });
  });

  it('reuses an existing branch whose commits are all in base, resetting it to base', async () => {
    const old = await headCommit(repo.dir);
    await git(['branch', '--', 'ao/merged', old], { cwd: repo.dir });
    const base = await commitFile(repo.dir, 'a.txt', 'a', 'base moves on');
    const wt = await create('merged');
    expect(await headCommit(repo.dir, 'ao/merged')).toBe(base);
    expect(wt.archivedRefs).toEqual([]);
    expect(await listArchiveRefs(repo.dir, 'merged')).toEqual([]);
    expect(wt.notes.join('\n')).toMatch(/ao\/merged already existed; reset it to main/);
  });

  it('archives an existing branch with unmerged commits before starting fresh', async () => {
    await git(['branch', '--', 'ao/work'], { cwd: repo.dir });
    const side = path.join(path.dirname(repo.dir), `${path.basename(repo.dir)}-side`);
    extra.push(side);
    await git(['worktree', 'add', '--', side, 'ao/work'], { cwd: repo.dir });
    const c1 = await commitFile(side, 'w1.txt', '1', 'work 1');
    const c2 = await commitFile(side, 'w2.txt', '2', 'work 2');
    await git(['worktree', 'remove', '--', side], { cwd: repo.dir });
    const base = await headCommit(repo.dir, 'main');

    const wt = await create('work');
    expect(await headCommit(repo.dir, 'ao/work')).toBe(base);
    expect(wt.archivedRefs).toHaveLength(1);
    expect(wt.archivedRefs[0]).toMatch(/^refs\/ao\/archive\/work\/\d{8}T\d{6}Z$/);
    expect(await headCommit(repo.dir, wt.archivedRefs[0])).toBe(c2);
    expect(await out(['rev-list', wt.archivedRefs[0]])).toContain(c1);
    expect(wt.notes.join('\n')).toContain(`kept as ${wt.archivedRefs[0]}`);
  });

  it('names the other worktree when the branch is checked out elsewhere, and changes nothing', async () => {
    const elsewhere = path.join(path.dirname(repo.dir), `${path.basename(repo.dir)}-elsewhere`);
    extra.push(elsewhere);
    await git(['worktree', 'add', '-b', 'ao/busy', '--', elsewhere, 'main'], { cwd: repo.dir });
    const tip = await commitFile(elsewhere, 'e.txt', 'e', 'their work');
    const err = await create('busy').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorktreeError);
    expect((err as WorktreeError).code).toBe('branch-checked-out');
    expect((err as Error).message).toContain(elsewhere);
    expect(await headCommit(repo.dir, 'ao/busy')).toBe(tip);
    expect(await listArchiveRefs(repo.dir, 'busy')).toEqual([]);
  });

  it('prunes a stale worktree elsewhere whose directory is gone, then continues', async () => {
    const gone = path.join(path.dirname(repo.dir), `${path.basename(repo.dir)}-gone`);
    extra.push(gone);
    await git(['worktree', 'add', '-b', 'ao/stale', '--', gone, 'main'], { cwd: repo.dir });
    const tip = await commitFile(gone, 's.txt', 's', 'committed before the dir vanished');
    await rm(gone, { recursive: true, force: true });
    const wt = await create('stale');
    expect(wt.notes.join('\n')).toMatch(
      /pruned stale worktree registrations.*stale|pruned stale worktree registrations.*gone/,
    );
    expect((await out(['worktree', 'list', '--porcelain'])).includes(gone)).toBe(false);
    expect(await headCommit(repo.dir, wt.archivedRefs[0])).toBe(tip);
  });

  it('prunes our own worktree whose directory was deleted (it was locked by us)', async () => {
    const first = await create('again');
    await rm(first.path, { recursive: true, force: true });
    expect((await listLaneWorktrees(repo.dir, repo.stateDir))[0]).toMatchObject({ missing: true, locked: true });
    const wt = await create('again');
    expect(wt.notes.join('\n')).toMatch(/unlocked .*again/);
    expect(wt.notes.join('\n')).toMatch(/pruned stale worktree/);
    const lanes = await listLaneWorktrees(repo.dir, repo.stateDir);
    expect(lanes).toHaveLength(1);
    expect(lanes[0]).toMatchObject({ missing: false, prunable: false, locked: true });
  });

  it('replaces our own earlier worktree, keeping its commits and uncommitted files', async () => {
    const first = await create('redo');
    const committed = await commitFile(first.path, 'done.txt', 'done', 'agent commit');
    await writeFile(path.join(first.path, 'README.md'), 'edited\n');
    await writeFile(path.join(first.path, 'untracked.txt'), 'new file\n');
    const wt = await create('redo');
    expect(wt.notes.join('\n')).toMatch(/unlocked/);
    expect(wt.archivedRefs).toHaveLength(1);
    const ref = wt.archivedRefs[0];
    expect(await out(['show', `${ref}:untracked.txt`])).toBe('new file');
    expect(await out(['show', `${ref}:README.md`])).toBe('edited');
    expect(await out(['rev-parse', `${ref}^`])).toBe(committed);
    expect(await worktreeStatus(wt.path)).toEqual({ dirty: false, files: [] });
    expect(existsSync(path.join(wt.path, 'done.txt'))).toBe(false);
  });

  it('refuses a worktree at our path locked by someone else', async () => {
    const first = await create('held');
    await git(['worktree', 'unlock', '--', first.path], { cwd: repo.dir });
    await git(['worktree', 'lock', '--reason', 'operator keeps this', '--', first.path], { cwd: repo.dir });
    const err = await create('held').catch((e: unknown) => e);
    expect((err as WorktreeError).code).toBe('foreign-lock');
    expect((err as Error).message).toContain('operator keeps this');
    expect(existsSync(first.path)).toBe(true);
  });

  it('removes a leftover unregistered directory at our path', async () => {
    const dir = path.join(repo.stateDir, 'worktrees', 'left');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'junk'), 'x');
    const wt = await create('left');
    expect(wt.notes.join('\n')).toContain('removed the leftover directory');
    expect(existsSync(path.join(dir, 'junk'))).toBe(false);
  });
});

describe('leftover lock files', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    child = undefined;
  });

  it('removes a leftover main index.lock when no git process runs', async () => {
    const lock = path.join(repo.dir, '.git', 'index.lock');
    await writeFile(lock, '');
    const wt = await create('a');
    expect(existsSync(lock)).toBe(false);
    expect(wt.notes.join('\n')).toContain(`removed leftover ${lock}`);
    await commitFile(repo.dir, 'after.txt', 'x', 'the main repo can commit again');
  });

  it('removes a leftover ref lock that would block the branch', async () => {
    const lock = path.join(repo.dir, '.git', 'refs', 'heads', 'ao', 'r.lock');
    await mkdir(path.dirname(lock), { recursive: true });
    await writeFile(lock, '');
    const wt = await create('r');
    expect(existsSync(lock)).toBe(false);
    expect(wt.branch).toBe('ao/r');
  });

  it("removes a leftover index.lock in our worktree's gitdir", async () => {
    const first = await create('w');
    const gitDir = await out(['rev-parse', '--absolute-git-dir'], first.path);
    await writeFile(path.join(gitDir, 'index.lock'), '');
    const wt = await create('w');
    expect(wt.notes.join('\n')).toContain('removed leftover');
  });

  it('refuses when a process has the lock open, naming it, and leaves everything', async () => {
    const first = await create('open');
    const gitDir = await out(['rev-parse', '--absolute-git-dir'], first.path);
    const lock = path.join(gitDir, 'index.lock');
    const fh = await open(lock, 'w');
    try {
      const err = await create('open').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitLockHeldError);
      expect((err as Error).message).toContain(`pid ${process.pid}`);
      expect((err as Error).message).toMatch(/git process may be running/);
    } finally {
      await fh.close();
    }
    expect(existsSync(lock)).toBe(true);
    expect(existsSync(first.path)).toBe(true);
  });

  it('refuses while a real `git commit -a` waits in its editor in the worktree', async () => {
    const first = await create('edit');
    await writeFile(path.join(first.path, 'README.md'), 'changed\n');
    const gitDir = await out(['rev-parse', '--absolute-git-dir'], first.path);
    const lock = path.join(gitDir, 'index.lock');
    child = spawn('git', ['commit', '-a'], {
      cwd: first.path,
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, GIT_EDITOR: 'sleep 60;:' },
    });
    for (let i = 0; i < 100 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(lock)).toBe(true);
    const err = await create('edit').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitLockHeldError);
    // git closes index.lock before starting the editor, so only the cwd check can see it.
    expect((err as Error).message).toContain(`pid ${child.pid}`);
    expect((err as Error).message).toContain('is a git process working here');
    expect(existsSync(first.path)).toBe(true);
  });
});

describe('removeLaneWorktree', () => {
  it('keeps unmerged commits and dirty files under an archive ref, then deletes worktree and branch', async () => {
    const wt = await create('done');
    const c = await commitFile(wt.path, 'feature.txt', 'feature\n', 'lane work');
    await writeFile(path.join(wt.path, 'README.md'), 'dirty\n');
    await writeFile(path.join(wt.path, 'scratch.txt'), 'untracked\n');
    await rm(path.join(wt.path, 'package.json'));
    const res = await remove('done');
    expect(res.archivedRef).toMatch(/^refs\/ao\/archive\/done\//);
    expect(res.archivedRefs).toHaveLength(1);
    const ref = res.archivedRef as string;
    expect(await out(['rev-parse', `${ref}^`])).toBe(c);
    expect(await out(['show', `${ref}:README.md`])).toBe('dirty');
    expect(await out(['show', `${ref}:scratch.txt`])).toBe('untracked');
    expect(await out(['show', `${ref}:feature.txt`])).toBe('feature');
    expect(
      (await git(['cat-file', '-e', `${ref}:package.json`], { cwd: repo.dir, allowFail: true })).exitCode,
    ).not.toBe(0);
    expect(existsSync(wt.path)).toBe(false);
    expect(await branchExists('ao/done')).toBe(false);
    expect(await listLaneWorktrees(repo.dir, repo.stateDir)).toEqual([]);
    expect(await mainStatus()).toBe('');
  });

  it('archives the branch tip when the worktree is clean but the branch is ahead', async () => {
    const wt = await create('ahead');
    const c = await commitFile(wt.path, 'f.txt', 'f', 'lane work');
    const res = await remove('ahead');
    expect(await headCommit(repo.dir, res.archivedRef as string)).toBe(c);
    expect(await branchExists('ao/ahead')).toBe(false);
  });

  it('archives nothing when everything is in base', async () => {
    const wt = await create('clean');
    await git(['merge', '-q', '--ff-only', 'ao/clean'], { cwd: repo.dir });
    const res = await remove('clean');
    expect(res).toMatchObject({ archivedRef: null, archivedRefs: [] });
    expect(existsSync(wt.path)).toBe(false);
    expect(await branchExists('ao/clean')).toBe(false);
    expect(await listArchiveRefs(repo.dir, 'clean')).toEqual([]);
  });

  it('keeps the branch when asked, still saving uncommitted files', async () => {
    const wt = await create('keep');
    const c = await commitFile(wt.path, 'k.txt', 'k', 'lane work');
    await writeFile(path.join(wt.path, 'wip.txt'), 'wip');
    const res = await remove('keep', true);
    expect(await headCommit(repo.dir, 'ao/keep')).toBe(c);
    expect(await out(['show', `${res.archivedRef}:wip.txt`])).toBe('wip');
  });

  it('is not an error when the worktree is already gone', async () => {
    const wt = await create('vanished');
    await rm(wt.path, { recursive: true, force: true });
    const res = await remove('vanished');
    expect(res.archivedRef).toBeNull();
    expect(await listLaneWorktrees(repo.dir, repo.stateDir)).toEqual([]);
  });

  it('refuses a path outside the worktrees dir and a branch that is not the lane', async () => {
    await expect(
      removeLaneWorktree({
        repoRoot: repo.dir,
        stateDir: repo.stateDir,
        lane: 'x',
        worktreePath: repo.dir,
        branch: 'ao/x',
        base: 'main',
      }),
    ).rejects.toMatchObject({ code: 'bad-path' });
    await expect(
      removeLaneWorktree({
        repoRoot: repo.dir,
        stateDir: repo.stateDir,
        lane: 'x',
        branch: 'main',
        base: 'main',
        worktreePath: path.join(repo.stateDir, 'worktrees', 'x'),
      }),
    ).rejects.toThrow(/refusing to delete/);
    expect(await branchExists('main')).toBe(true);
  });
});

describe('refs and listing', () => {
  it('archiveRef never overwrites: a second archive in the same second gets a suffix', async () => {
    const a = await headCommit(repo.dir);
    const b = await commitFile(repo.dir, 'b.txt', 'b', 'b');
    const now = new Date('2025-01-31T23:59:59.500Z');
    const { archiveRef: archiveAt } = await import('../../lanes/git/refs.js');
    expect(await archiveAt(repo.dir, 'l', a, now)).toBe('refs/ao/archive/l/20250131T235959Z');
    expect(await archiveAt(repo.dir, 'l', b, now)).toBe('refs/ao/archive/l/20250131T235959Z-2');
    expect(await listArchiveRefs(repo.dir, 'l')).toEqual([
      { ref: 'refs/ao/archive/l/20250131T235959Z', commit: a },
      { ref: 'refs/ao/archive/l/20250131T235959Z-2', commit: b },
    ]);
    expect(await archiveRef(repo.dir, 'l', 'main')).toMatch(/^refs\/ao\/archive\/l\//);
    await expect(archiveRef(repo.dir, 'l', 'nope')).rejects.toThrow(/does not name a commit/);
  });

  it('commitsAhead counts commits of the branch not in base', async () => {
    const wt = await create('count');
    expect(await commitsAhead(repo.dir, 'main', 'ao/count')).toBe(0);
    await commitFile(wt.path, '1', '1', '1');
    await commitFile(wt.path, '2', '2', '2');
    expect(await commitsAhead(repo.dir, 'main', 'ao/count')).toBe(2);
    expect(await commitsAhead(repo.dir, 'ao/count', 'main')).toBe(0);
  });

  it('pruneWorktrees reports what it pruned; listLaneWorktrees ignores worktrees elsewhere', async () => {
    const other = path.join(path.dirname(repo.dir), `${path.basename(repo.dir)}-other`);
    extra.push(other);
    await git(['worktree', 'add', '-b', 'other', '--', other, 'main'], { cwd: repo.dir });
    const wt = await create('p');
    expect((await listLaneWorktrees(repo.dir, repo.stateDir)).map((l) => l.lane)).toEqual(['p']);
    await rm(other, { recursive: true, force: true });
    const pruned = await pruneWorktrees(repo.dir);
    expect(pruned).toHaveLength(1);
    expect(pruned[0]).toMatch(/^Removing worktrees\/.*other/);
    expect(existsSync(wt.path)).toBe(true);
  });

  it('worktreeStatus lists modified, deleted, renamed and untracked files', async () => {
    const wt = await create('st');
    await writeFile(path.join(wt.path, 'README.md'), 'm\n');
    await git(['mv', '--', 'package.json', 'pkg.json'], { cwd: wt.path });
    await mkdir(path.join(wt.path, 'dir'));
    await writeFile(path.join(wt.path, 'dir', 'new file.txt'), 'n');
    const st = await worktreeStatus(wt.path);
    expect(st.dirty).toBe(true);
    expect(st.files.sort()).toEqual(['README.md', 'dir/new file.txt', 'pkg.json']);
  });
});
